package sesame_test

// How the package behaves in a Go program: 1,000 concurrent calls from goroutines; a
// call blocked on the network returns as soon as its context is cancelled or its
// deadline passes; Close is idempotent, waits for calls in flight and fails later calls;
// a client nobody closes is released by its finalizer; memory stays flat over 100,000
// calls; a client recovers by itself after the server was unreachable.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sesame "github.com/sesame-secrets/sesame/go"
)

// --- A TCP proxy to the test server that can stall, stop and start again --------------

// tcpProxy forwards connections to the test server. stall holds back what clients send
// (a network that accepts and never answers) until release; stop closes the listener
// and every connection (the server is unreachable) until start listens again on the
// same port.
type tcpProxy struct {
	target  string
	arrived atomic.Int64 // chunks that reached the gate while stalled

	mu      sync.Mutex
	addr    string
	ln      net.Listener
	down    chan struct{} // closed by stop
	flowing chan struct{} // closed while data flows; open while stalled
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

func newProxy(t testing.TB) *tcpProxy {
	t.Helper()
	flowing := make(chan struct{})
	close(flowing)
	p := &tcpProxy{
		target:  strings.TrimPrefix(server.url, "http://"),
		addr:    "127.0.0.1:0",
		flowing: flowing,
		conns:   map[net.Conn]struct{}{},
	}
	p.start(t)
	t.Cleanup(func() {
		p.release()
		p.stop()
	})
	return p
}

func (p *tcpProxy) url() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "http://" + p.addr
}

// start listens (again) on the proxy's address.
func (p *tcpProxy) start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy listen %s: %v", p.addr, err)
	}
	p.ln, p.addr, p.down = ln, ln.Addr().String(), make(chan struct{})
	down := p.down
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			p.serve(conn, down)
		}
	}()
}

func (p *tcpProxy) serve(client net.Conn, down chan struct{}) {
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	select {
	case <-down:
		p.mu.Unlock()
		_ = client.Close()
		_ = upstream.Close()
		return
	default:
	}
	p.conns[client], p.conns[upstream] = struct{}{}, struct{}{}
	p.mu.Unlock()
	closeBoth := func() {
		_ = client.Close()
		_ = upstream.Close()
		p.mu.Lock()
		delete(p.conns, client)
		delete(p.conns, upstream)
		p.mu.Unlock()
	}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		defer closeBoth()
		_, _ = io.Copy(client, upstream)
	}()
	go func() {
		defer p.wg.Done()
		defer closeBoth()
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				if !p.gate(down) {
					return
				}
				if _, err := upstream.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
}

// gate waits while the proxy is stalled; false when it was stopped meanwhile.
func (p *tcpProxy) gate(down chan struct{}) bool {
	p.mu.Lock()
	flowing := p.flowing
	p.mu.Unlock()
	select {
	case <-flowing:
		return true
	default:
	}
	p.arrived.Add(1)
	select {
	case <-flowing:
		return true
	case <-down:
		return false
	}
}

func (p *tcpProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flowing:
		p.flowing = make(chan struct{})
	default:
	}
}

func (p *tcpProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flowing:
	default:
		close(p.flowing)
	}
}

// stop closes the listener and every connection, and waits for the proxy's goroutines.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		return
	}
	_ = p.ln.Close()
	p.ln = nil
	close(p.down)
	for conn := range p.conns {
		_ = conn.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// waitFor polls cond until it holds (failing the test after 10 s).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// --- Concurrency -----------------------------------------------------------------------

func TestRuntimeConcurrentResolves(t *testing.T) {
	ctx := context.Background()
	client := mustConnect(t)
	vault := newVault(t, client)
	for i := 0; i < 5; i++ {
		mustCreate(t, client, sesame.ItemCreateParams{
			VaultID: vault.ID, Title: fmt.Sprintf("item %d", i), Category: sesame.ItemCategoryAPICredentials,
			Fields: []sesame.ItemField{{ID: "credential", Title: "credential", FieldType: sesame.ItemFieldTypeConcealed, Value: fmt.Sprintf("secret-%d", i)}},
		})
	}
	const n = 1000
	values := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			values[i], errs[i] = client.Secrets().Resolve(ctx, fmt.Sprintf("op://%s/item %d/credential", vault.Title, i%5))
		}(i)
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d concurrent resolves in %v", n, time.Since(began))
	for i := 0; i < n; i++ {
		if errs[i] != nil || values[i] != fmt.Sprintf("secret-%d", i%5) {
			t.Fatalf("resolve %d: %q, %v", i, values[i], errs[i])
		}
	}
}

// --- Cancellation ----------------------------------------------------------------------

func TestRuntimeCancellation(t *testing.T) {
	ctx := context.Background()
	owner := mustConnect(t)
	vault := newVault(t, owner)
	item := mustCreate(t, owner, login(vault.ID, unique("slow"), "slow-secret"))
	ref := fmt.Sprintf("op://%s/%s/password", vault.ID, item.ID)
	p := newProxy(t)
	client := mustConnect(t, sesame.WithServerURL(p.url()))
	// Cleanups run last first: on failure, let stalled calls finish before Close waits for them.
	t.Cleanup(p.release)
	mustResolve(t, client, ref, "slow-secret")

	p.stall()
	type result struct {
		value string
		err   error
		at    time.Time
	}

	t.Run("cancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan result, 1)
		before := p.arrived.Load()
		go func() {
			value, err := client.Secrets().Resolve(cctx, ref)
			done <- result{value, err, time.Now()}
		}()
		waitFor(t, "the call to reach the stalled network", func() bool { return p.arrived.Load() > before })
		// Another client's call completes meanwhile: calls do not queue behind a blocked one.
		mustResolve(t, owner, ref, "slow-secret")
		select {
		case r := <-done:
			t.Fatalf("the call returned while the network was stalled: %q %v", r.value, r.err)
		case <-time.After(200 * time.Millisecond):
		}
		cancelled := time.Now()
		cancel()
		select {
		case r := <-done:
			if !errors.Is(r.err, context.Canceled) || r.value != "" {
				t.Fatalf("after cancel: %q, %v (%T)", r.value, r.err, r.err)
			}
			var e *sesame.Error
			if errors.As(r.err, &e) {
				t.Fatalf("a cancelled call returned a *sesame.Error: %v", e)
			}
			if took := r.at.Sub(cancelled); took > 2*time.Second {
				t.Fatalf("the call returned %v after its context was cancelled", took)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the call did not return after its context was cancelled")
		}
	})

	t.Run("deadline", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		began := time.Now()
		value, err := client.Secrets().Resolve(dctx, ref)
		took := time.Since(began)
		if !errors.Is(err, context.DeadlineExceeded) || value != "" {
			t.Fatalf("after the deadline: %q, %v", value, err)
		}
		if took < 250*time.Millisecond || took > 3*time.Second {
			t.Fatalf("a call with a 300 ms deadline took %v", took)
		}
	})

	t.Run("already done", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		before := p.arrived.Load()
		if _, err := client.Secrets().Resolve(cctx, ref); !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled context: %v", err)
		}
		dctx, dcancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer dcancel()
		if _, err := client.Items().Create(dctx, login(vault.ID, "never", "never-secret")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a past deadline: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
		if p.arrived.Load() != before {
			t.Fatal("a call whose context was already done went to the network")
		}
	})

	// The client still works afterwards, for reads and writes.
	p.release()
	mustResolve(t, client, ref, "slow-secret")
	if _, err := client.Items().Create(ctx, login(vault.ID, unique("after-cancel"), "after-secret")); err != nil {
		t.Fatal(err)
	}
	listed, err := client.Items().List(ctx, vault.ID)
	if err != nil || len(listed) != 2 {
		// The item made with a past deadline must not exist.
		t.Fatalf("items after the cancelled calls: %+v %v", listed, err)
	}
}

func TestRuntimeNewClientHonoursContext(t *testing.T) {
	ctx := context.Background()
	p := newProxy(t)
	p.stall()

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	client, err := connect(cctx, sesame.WithServerURL(p.url()))
	if !errors.Is(err, context.Canceled) || client != nil {
		t.Fatalf("NewClient with a cancelled context: %v %v", client, err)
	}

	dctx, dcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer dcancel()
	began := time.Now()
	client, err = connect(dctx, sesame.WithServerURL(p.url()))
	if took := time.Since(began); !errors.Is(err, context.DeadlineExceeded) || client != nil || took > 3*time.Second {
		t.Fatalf("NewClient with a 300 ms deadline: %v %v after %v", client, err, took)
	}

	cctx, cancel = context.WithCancel(ctx)
	defer cancel()
	before := p.arrived.Load()
	go func() {
		for p.arrived.Load() == before {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	began = time.Now()
	client, err = connect(cctx, sesame.WithServerURL(p.url()))
	if took := time.Since(began); !errors.Is(err, context.Canceled) || client != nil || took > 3*time.Second {
		t.Fatalf("NewClient cancelled while it waits: %v %v after %v", client, err, took)
	}

	// The same server once the network flows.
	p.release()
	working := mustConnect(t, sesame.WithServerURL(p.url()))
	if _, err := working.Vaults().List(ctx); err != nil {
		t.Fatal(err)
	}
}

// --- Lifetime --------------------------------------------------------------------------

func TestRuntimeClose(t *testing.T) {
	ctx := context.Background()
	client, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	items := client.Items()
	if _, err := client.Vaults().List(ctx); err != nil {
		t.Fatal(err)
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
	_, err = client.Vaults().List(ctx)
	closed := checkError(t, err, sesame.ErrInvalidInput, server.ownerToken)
	wantDetails(t, closed, map[string]any{"argument": "client"})
	if !strings.Contains(closed.Message, "closed") {
		t.Fatalf("message %q", closed.Message)
	}
	local(t, closed)
	// Groups taken before Close, and every kind of call, fail the same way.
	_, err = items.List(ctx, strings.Repeat("a", 26))
	checkError(t, err, sesame.ErrInvalidInput)
	_, err = items.Files().Read(ctx, "v", "i", sesame.FileAttributes{})
	checkError(t, err, sesame.ErrInvalidInput)
	_, err = client.RateLimit(ctx)
	checkError(t, err, sesame.ErrInvalidInput)
	_, err = client.Secrets().ResolveBytes(ctx, "op://v/i/f")
	checkError(t, err, sesame.ErrInvalidInput)
	// Calls that need no client still work.
	if err := sesame.Secrets.ValidateSecretReference(ctx, "op://v/i/f"); err != nil {
		t.Fatal(err)
	}

	// Close from many goroutines at once.
	other, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = other.Close()
		}()
	}
	wg.Wait()
	_, err = other.Vaults().List(ctx)
	checkError(t, err, sesame.ErrInvalidInput)
}

func TestRuntimeCloseWaitsForCallsInFlight(t *testing.T) {
	ctx := context.Background()
	owner := mustConnect(t)
	vault := newVault(t, owner)
	item := mustCreate(t, owner, login(vault.ID, unique("in-flight"), "in-flight-secret"))
	ref := fmt.Sprintf("op://%s/%s/password", vault.ID, item.ID)
	p := newProxy(t)
	client := mustConnect(t, sesame.WithServerURL(p.url()))
	// Cleanups run last first: on failure, let the stalled call finish before Close waits for it.
	t.Cleanup(p.release)
	mustResolve(t, client, ref, "in-flight-secret")

	p.stall()
	type result struct {
		value string
		err   error
	}
	done := make(chan result, 1)
	before := p.arrived.Load()
	go func() {
		value, err := client.Secrets().Resolve(ctx, ref)
		done <- result{value, err}
	}()
	waitFor(t, "the call to reach the stalled network", func() bool { return p.arrived.Load() > before })
	closed := make(chan struct{})
	go func() {
		_ = client.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a call was running")
	case r := <-done:
		t.Fatalf("the call returned while the network was stalled: %q %v", r.value, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	// The call finishes on the client it started with, then Close returns.
	p.release()
	select {
	case r := <-done:
		if r.err != nil || r.value != "in-flight-secret" {
			t.Fatalf("the call in flight: %q %v", r.value, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not finish")
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after the call finished")
	}
	_, err := client.Secrets().Resolve(ctx, ref)
	checkError(t, err, sesame.ErrInvalidInput, "in-flight-secret")
}

// serverConnections are this process's TCP connections to the test server (by socket
// inode). Other sockets do not count: the Rust runtime makes a Unix socket pair of its
// own, once per process.
func serverConnections(t testing.TB) map[string]bool {
	t.Helper()
	parsed, err := url.Parse(server.url)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(parsed.Port())
	toServer := map[string]bool{}
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		text, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(text), "\n")[1:] {
			// sl local_address rem_address st … uid timeout inode
			fields := strings.Fields(line)
			if len(fields) < 10 {
				continue
			}
			remote := fields[2]
			if p, err := strconv.ParseInt(remote[strings.LastIndex(remote, ":")+1:], 16, 64); err == nil && int(p) == port {
				toServer["socket:["+fields[9]+"]"] = true
			}
		}
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	open := map[string]bool{}
	for _, entry := range entries {
		if link, err := os.Readlink("/proc/self/fd/" + entry.Name()); err == nil && toServer[link] {
			open[link] = true
		}
	}
	return open
}

func TestRuntimeFinalizerReleasesAnUnclosedClient(t *testing.T) {
	before := serverConnections(t)
	func() {
		client, err := connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Vaults().List(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Not closed: only the finalizer can release it.
	}()
	// The server closes an idle connection after about 10 s (header_read_timeout_seconds),
	// which would close the socket finalizer or not: decide well before that.
	deadline := time.Now().Add(4 * time.Second)
	var mine []string
	for socket := range serverConnections(t) {
		if !before[socket] {
			mine = append(mine, socket)
		}
	}
	if len(mine) == 0 {
		t.Fatal("the client holds no connection to the server")
	}
	stillOpen := func() []string {
		open := serverConnections(t)
		var left []string
		for _, socket := range mine {
			if open[socket] {
				left = append(left, socket)
			}
		}
		return left
	}
	for len(stillOpen()) > 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
	if left := stillOpen(); len(left) > 0 {
		t.Fatalf("the collected client's sockets %v are still open", left)
	}
}

// raceEnabled: the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, setting := range info.Settings {
		if setting.Key == "-race" {
			return setting.Value == "true"
		}
	}
	return false
}

// rss is the process's resident set size in bytes.
func rss(t testing.TB) int64 {
	t.Helper()
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	fields := strings.Fields(string(statm))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// memoryChild is set in the process that TestRuntimeMemoryStaysFlat starts to measure in.
const memoryChild = "SESAME_GO_TEST_MEMORY_CHILD"

func TestRuntimeMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 calls: skipped with -short")
	}
	if os.Getenv(memoryChild) == "" {
		// Measured in a fresh process of this test binary (with its own server, from
		// TestMain): the OS threads other tests leave behind (1,000 concurrent calls leave
		// about as many) each gain per-thread state the first time a call runs on them, a
		// one-off growth (measured: about 60 MiB under -race, flat afterwards) that says
		// nothing about a leak.
		cmd := exec.Command(os.Args[0], "-test.run=^TestRuntimeMemoryStaysFlat$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), memoryChild+"=1")
		out, err := cmd.CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			t.Log("child: " + line)
		}
		if err != nil || !strings.Contains(string(out), "--- PASS: TestRuntimeMemoryStaysFlat") {
			t.Fatalf("the measuring process failed: %v", err)
		}
		return
	}
	ctx := context.Background()
	owner := mustConnect(t)
	vault := newVault(t, owner)
	item := mustCreate(t, owner, login(vault.ID, unique("leak"), "leak-secret"))
	ref := fmt.Sprintf("op://%s/%s/password", vault.ID, item.ID)
	// Cached reads: no round trip, so the loop measures the binding, not the network.
	client := mustConnect(t, sesame.WithCacheTTLSeconds(60))
	// A context that can be cancelled (and never is) takes the cancel-token path, which
	// starts a watcher goroutine per call. The race detector keeps memory for every
	// goroutine ever started (about 300 bytes each: 30 MiB per 100,000, measured with the
	// same goroutine pattern and no cgo at all), so under -race every call uses a context
	// that can never be done, and the cancel-token path is leak-checked without -race.
	cancellable, cancel := context.WithCancel(ctx)
	defer cancel()
	if raceEnabled() {
		cancellable = ctx
		t.Log("-race: every call with context.Background (see above)")
	}

	const workers = 4
	run := func(calls int) {
		t.Helper()
		var failures atomic.Int64
		var once sync.Once
		var firstErr error
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < calls/workers; i++ {
					callCtx := ctx
					if i%4 >= 2 {
						callCtx = cancellable
					}
					var err error
					if i%2 == 0 {
						var value string
						value, err = client.Secrets().Resolve(callCtx, ref)
						if err == nil && value != "leak-secret" {
							err = fmt.Errorf("resolved %q", value)
						}
					} else {
						err = sesame.Secrets.ValidateSecretReference(callCtx, ref)
					}
					if err != nil {
						failures.Add(1)
						once.Do(func() { firstErr = err })
					}
				}
			}()
		}
		wg.Wait()
		if failures.Load() > 0 {
			t.Fatalf("%d calls failed, the first with %v", failures.Load(), firstErr)
		}
	}
	settled := func() int64 {
		runtime.GC()
		debug.FreeOSMemory()
		return rss(t)
	}

	run(10_000) // warm-up: the runtime's threads, caches and pools
	before := settled()
	began := time.Now()
	run(100_000)
	took := time.Since(began)
	after := settled()
	const mib = 1 << 20
	t.Logf("RSS %.1f MiB → %.1f MiB (%+.1f MiB) over 100,000 calls in %v",
		float64(before)/mib, float64(after)/mib, float64(after-before)/mib, took)
	if after-before > 20*mib {
		t.Fatalf("RSS grew by %.1f MiB over 100,000 calls", float64(after-before)/mib)
	}
}

// --- Recovery --------------------------------------------------------------------------

func TestRuntimeRecoversAfterOutage(t *testing.T) {
	ctx := context.Background()
	owner := mustConnect(t)
	vault := newVault(t, owner)
	item := mustCreate(t, owner, login(vault.ID, unique("recover"), "recover-secret"))
	ref := fmt.Sprintf("op://%s/%s/password", vault.ID, item.ID)
	p := newProxy(t)
	client := mustConnect(t, sesame.WithServerURL(p.url()), sesame.WithRetries(0), sesame.WithTimeoutSeconds(5))
	mustResolve(t, client, ref, "recover-secret")

	// The server is unreachable for a while: every call fails with ErrNetwork.
	p.stop()
	failures := 0
	for until := time.Now().Add(1500 * time.Millisecond); time.Now().Before(until); time.Sleep(100 * time.Millisecond) {
		_, err := client.Secrets().Resolve(ctx, ref)
		local(t, checkError(t, err, sesame.ErrNetwork, "recover-secret", server.ownerToken))
		failures++
	}
	_, err := client.Items().Create(ctx, login(vault.ID, unique("down"), "down-secret"))
	checkError(t, err, sesame.ErrNetwork, "down-secret", server.ownerToken)
	if failures < 3 {
		t.Fatalf("only %d calls during the outage", failures)
	}

	// Back on the same address: the same client works again, at once.
	p.start(t)
	mustResolve(t, client, ref, "recover-secret")
	made, err := client.Items().Create(ctx, login(vault.ID, unique("up"), "up-secret"))
	if err != nil {
		t.Fatal(err)
	}
	mustResolve(t, owner, fmt.Sprintf("op://%s/%s/password", vault.ID, made.ID), "up-secret")
}
