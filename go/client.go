package sesame

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
)

// DefaultIntegrationName and DefaultIntegrationVersion are what a client records in the
// audit trail when WithIntegrationInfo is not given (as in the 1Password Go SDK).
const (
	DefaultIntegrationName    = "Unknown"
	DefaultIntegrationVersion = "Unknown"
)

// Client is an authenticated Sesame client: Secrets(), Items() (with Files() and
// Shares()), Vaults(), Shares(), Events(), RateLimit(). It is safe for concurrent use by
// any number of goroutines; calls run in parallel (there is no lock around a call).
// Close releases it; so does garbage collection, as a safety net.
type Client struct {
	*clientCalls
	handle *handle
}

// handle guards the native client: calls hold it shared while they run, Close takes it
// exclusively, so the native client is never freed under a running call.
type handle struct {
	mu     sync.RWMutex
	native *native
}

// ClientOption configures NewClient.
type ClientOption func(*clientOptions) error

// clientOptions is what NewClient sends the core (ClientOptions, camelCase JSON). The
// token is kept out of every String and %v: the struct has no exported fields.
type clientOptions struct {
	Auth               string `json:"auth"`
	IntegrationName    string `json:"integrationName"`
	IntegrationVersion string `json:"integrationVersion"`
	ServerURL          string `json:"serverUrl,omitempty"`
	TimeoutSeconds     *int64 `json:"timeoutSeconds,omitempty"`
	Retries            *int64 `json:"retries,omitempty"`
	CacheTTLSeconds    *int64 `json:"cacheTtlSeconds,omitempty"`
}

func (clientOptions) String() string { return "sesame.clientOptions{…}" }

// WithServiceAccountToken sets the service account token the client authenticates with.
func WithServiceAccountToken(token string) ClientOption {
	return func(o *clientOptions) error { o.Auth = token; return nil }
}

// WithIntegrationInfo sets your program's name and version, recorded in the audit trail.
func WithIntegrationInfo(name string, version string) ClientOption {
	return func(o *clientOptions) error {
		o.IntegrationName, o.IntegrationVersion = name, version
		return nil
	}
}

// WithServerURL sets the server to use instead of the one the token records (default:
// $SESAME_URL if set).
func WithServerURL(url string) ClientOption {
	return func(o *clientOptions) error { o.ServerURL = url; return nil }
}

// WithTimeoutSeconds limits every HTTP call (default 30).
func WithTimeoutSeconds(seconds int64) ClientOption {
	return func(o *clientOptions) error { o.TimeoutSeconds = &seconds; return nil }
}

// WithRetries sets how often an idempotent call is retried after a transient failure,
// waiting as long as a Retry-After asks (default 3).
func WithRetries(retries int64) ClientOption {
	return func(o *clientOptions) error { o.Retries = &retries; return nil }
}

// WithCacheTTLSeconds lets reads skip the sync round trip while the last sync is
// younger than this (default 0: sync on every read; a client's own writes are always
// read back).
func WithCacheTTLSeconds(seconds int64) ClientOption {
	return func(o *clientOptions) error { o.CacheTTLSeconds = &seconds; return nil }
}

// NewClient authenticates with a service account token and syncs the vaults it can
// read. ctx bounds the authentication (cancellation and deadline).
func NewClient(ctx context.Context, opts ...ClientOption) (*Client, error) {
	options := clientOptions{IntegrationName: DefaultIntegrationName, IntegrationVersion: DefaultIntegrationVersion}
	for _, opt := range opts {
		if err := opt(&options); err != nil {
			return nil, err
		}
	}
	encoded, err := json.Marshal(options)
	if err != nil {
		return nil, &Error{Code: CodeInvalidInput, Message: "invalid options: " + err.Error()}
	}
	n, err := newNative(ctx, encoded)
	// The token's copy in the request is not needed any more.
	clear(encoded)
	if err != nil {
		return nil, err
	}
	h := &handle{native: n}
	client := &Client{clientCalls: newClientCalls(h), handle: h}
	// A safety net: a client nobody closed is released when it is collected. The
	// finalizer is on the handle, which only the client's calls reference.
	runtime.SetFinalizer(h, (*handle).close)
	return client, nil
}

// Close releases the client's session and connections. It waits for calls still
// running on it; calls made afterwards fail with ErrInvalidInput. Idempotent.
func (c *Client) Close() error {
	c.handle.close()
	return nil
}

func (h *handle) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.native != nil {
		h.native.free()
		h.native = nil
		runtime.SetFinalizer(h, nil)
	}
}

// invoke runs a call against the client (the invoker of the generated wrappers).
func (h *handle) invoke(ctx context.Context, name string, parameters map[string]any, data []byte) (json.RawMessage, []byte, error) {
	request, err := encodeRequest(name, parameters)
	if err != nil {
		return nil, nil, err
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.native == nil {
		return nil, nil, &Error{Code: CodeInvalidInput, Message: "invalid client: this client was closed; create a new one with NewClient", Details: map[string]any{"argument": "client"}}
	}
	return h.native.invoke(ctx, request, data)
}

// processInvoker runs calls that need no client (offline ones, opening a share link).
type processInvoker struct{}

func (processInvoker) invoke(ctx context.Context, name string, parameters map[string]any, data []byte) (json.RawMessage, []byte, error) {
	request, err := encodeRequest(name, parameters)
	if err != nil {
		return nil, nil, err
	}
	var none *native
	return none.invoke(ctx, request, data)
}

func init() { offlineInvoker = processInvoker{} }

func encodeRequest(name string, parameters map[string]any) ([]byte, error) {
	request, err := json.Marshal(struct {
		Name       string         `json:"name"`
		Parameters map[string]any `json:"parameters"`
	}{name, parameters})
	if err != nil {
		return nil, &Error{Code: CodeInvalidInput, Message: "invalid parameters of " + name + ": " + err.Error()}
	}
	return request, nil
}
