package sesame_test

// Porting from the 1Password Go SDK is an import change: every exported name of
// github.com/1password/onepassword-sdk-go exists here, and each API interface has the
// same methods. The official module's source is read with go/parser from the module
// cache (`go mod download`, no dependency of this module); what Sesame lacks on purpose
// is listed with the reason.

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const officialModule = "github.com/1password/onepassword-sdk-go@v0.4.1"

var notInSesame = map[string]string{}

func init() {
	for _, name := range []string{"Group", "GroupAccess", "GroupGetParams", "GroupState", "GroupType",
		"GroupVaultAccess", "GroupsAPI", "GroupsSource", "NewGroupsSource",
		"EnvironmentVariable", "GetVariablesResponse", "EnvironmentsAPI", "EnvironmentsSource", "NewEnvironmentsSource"} {
		notInSesame[name] = "groups and environments are 1Password account features"
	}
	// Per-item batch and resolve-all failures are one error envelope in Sesame (a stable
	// code with details), not a union of reasons per call.
	for _, name := range []string{"ErrorMessage", "Response", "ItemUpdateFailureReason", "ItemUpdateFailureReasonTypes",
		"ItemsGetAllError", "ItemsGetAllErrorTypes", "ResolveReferenceError", "ResolveReferenceErrorTypes"} {
		notInSesame[name] = "Sesame's batch results carry one error envelope (code and details)"
	}
	for _, name := range []string{"WithDesktopAppIntegration", "DesktopSessionExpiredError"} {
		notInSesame[name] = "Sesame authenticates with service account tokens only"
	}
	// The official SDK's client internals: its sources wrap its WASM core's client.
	for _, name := range []string{"NewSecretsSource", "NewItemsSource", "NewItemsFilesSource", "NewItemsSharesSource",
		"NewVaultsSource", "SecretsSource", "ItemsSource", "ItemsFilesSource", "ItemsSharesSource", "VaultsSource"} {
		notInSesame[name] = "the official SDK's implementation types (Sesame's are unexported)"
	}
}

// exported is every exported top-level name of the Go files in dir (tests excluded), and
// the method names of its exported interfaces.
func exported(t *testing.T, dir string) (map[string]bool, map[string][]string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	interfaces := map[string][]string{}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range parsed.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					names[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						names[s.Name.Name] = true
						if it, ok := s.Type.(*ast.InterfaceType); ok {
							for _, m := range it.Methods.List {
								for _, n := range m.Names {
									interfaces[s.Name.Name] = append(interfaces[s.Name.Name], n.Name)
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								names[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return names, interfaces
}

// reasonMissing is why Sesame lacks an official name, or "" if it should have it: the
// names listed, and the variants of the unions and enums listed (their constants and
// constructors).
func reasonMissing(name string) string {
	if reason := notInSesame[name]; reason != "" {
		return reason
	}
	for _, prefix := range []string{"ItemUpdateFailureReasonTypeVariant", "NewItemUpdateFailureReasonTypeVariant",
		"ItemsGetAllErrorTypeVariant", "NewItemsGetAllErrorTypeVariant",
		"ResolveReferenceErrorTypeVariant", "NewResolveReferenceErrorTypeVariant"} {
		if strings.HasPrefix(name, prefix) {
			return notInSesame["ResolveReferenceError"]
		}
	}
	for _, prefix := range []string{"GroupState", "GroupType"} {
		if strings.HasPrefix(name, prefix) {
			return notInSesame["Group"]
		}
	}
	return ""
}

func officialDir(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", officialModule)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", officialModule, err)
	}
	var module struct{ Dir string }
	if err := json.Unmarshal(out, &module); err != nil || module.Dir == "" {
		t.Fatalf("go mod download: %s", out)
	}
	return module.Dir
}

func TestPortingEveryOfficialNameExists(t *testing.T) {
	theirs, theirInterfaces := exported(t, officialDir(t))
	ours, ourInterfaces := exported(t, ".")
	var missing []string
	for name := range theirs {
		if !ours[name] && reasonMissing(name) == "" {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d names of the official SDK are missing: %s", len(missing), strings.Join(missing, " "))
	}
	for name := range notInSesame {
		if !theirs[name] || ours[name] {
			t.Errorf("%s is listed as missing but the official SDK lacks it or Sesame has it", name)
		}
	}
	for name, methods := range theirInterfaces {
		if reasonMissing(name) != "" {
			continue
		}
		have := map[string]bool{}
		for _, m := range ourInterfaces[name] {
			have[m] = true
		}
		for _, m := range methods {
			if !have[m] && !strings.Contains(m, "Group") {
				t.Errorf("%s lacks the method %s", name, m)
			}
		}
	}
}
