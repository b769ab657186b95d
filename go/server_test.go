package sesame_test

// A real `sesame server` for the Go suite: SQLite in a fresh data directory, on
// 127.0.0.1, with its owner's token; one per test binary (TestMain), stopped at the end.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sesame "github.com/sesame-secrets/sesame/go"
)

type testServer struct {
	url        string
	ownerToken string
	dataDir    string
	process    *exec.Cmd
}

var server *testServer

// sesameBin is $SESAME_BIN, else the workspace's debug build.
func sesameBin() string {
	if bin := os.Getenv("SESAME_BIN"); bin != "" {
		return bin
	}
	return filepath.Join("..", "target", "debug", "sesame")
}

func startServer() (*testServer, error) {
	bin, err := filepath.Abs(sesameBin())
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s is missing: run `cargo build -p sesame-cli` (make test does)", bin)
	}
	dataDir, err := os.MkdirTemp("", "sesame-go-")
	if err != nil {
		return nil, err
	}
	// `server init` never overwrites a saved credential: give it its own config home.
	env := append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dataDir, "config"))
	init := exec.Command(bin, "server", "init", "--data-dir", dataDir, "--url", "http://127.0.0.1:1")
	init.Env = env
	if out, err := init.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sesame server init: %v: %s", err, out)
	}
	token, err := os.ReadFile(filepath.Join(dataDir, "owner.credential"))
	if err != nil {
		return nil, err
	}
	// Benchmarks sign in thousands of times a minute from one address; the default limit
	// on sign-ins per address would refuse them.
	start := exec.Command(bin, "server", "start", "--data-dir", dataDir, "--listen", "127.0.0.1:0",
		"--rate-limit-unauthenticated", "1000000")
	start.Env = env
	stdout, err := start.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := start.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		_ = start.Process.Kill()
		return nil, fmt.Errorf("the server did not start: %q %v", line, err)
	}
	return &testServer{
		url:        strings.TrimSpace(strings.TrimPrefix(line, "listening on ")),
		ownerToken: strings.TrimSpace(string(token)),
		dataDir:    dataDir,
		process:    start,
	}, nil
}

func (s *testServer) stop() {
	_ = s.process.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.process.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.process.Process.Kill()
	}
	_ = os.RemoveAll(s.dataDir)
}

// cli runs the `sesame` command line against the server (as token); its stdout.
func (s *testServer) cli(t testing.TB, token string, args ...string) string {
	t.Helper()
	bin, _ := filepath.Abs(sesameBin())
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SESAME_URL="+s.url, "SESAME_SERVICE_ACCOUNT_TOKEN="+token,
		"XDG_CONFIG_HOME="+filepath.Join(s.dataDir, "config"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sesame %s: %v", strings.Join(args[:min(2, len(args))], " "), err)
	}
	return string(out)
}

// ownerClient is a client of the account owner, closed when the test ends.
func ownerClient(t testing.TB, opts ...sesame.ClientOption) *sesame.Client {
	t.Helper()
	all := append([]sesame.ClientOption{
		sesame.WithServiceAccountToken(server.ownerToken),
		sesame.WithIntegrationInfo("sesame-go-tests", "1.0.0"),
		sesame.WithServerURL(server.url),
	}, opts...)
	client, err := sesame.NewClient(context.Background(), all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func TestMain(m *testing.M) {
	var err error
	server, err = startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	server.stop()
	os.Exit(code)
}
