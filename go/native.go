package sesame

// The cgo glue to libsesame (bindings/c): one function per C entry point, nothing
// model-shaped. `make go-lib` builds the static library and copies it with its header
// into lib/ beside this file; the system libraries are those `rustc --print
// native-static-libs` reports for it (the make step checks this list against them).

/*
#cgo CFLAGS: -I${SRCDIR}/lib
#cgo LDFLAGS: -L${SRCDIR}/lib -lsesame -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
#include "sesame.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"unsafe"
)

// native is one client handle of the C ABI, or none for calls that need no client.
type native struct {
	handle *C.SesameClient
}

// bytesOf is a C view of b for the duration of a call (nil when empty).
func bytesOf(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// taken copies a buffer the library returned into Go memory and frees it.
func taken(buffer C.SesameBuffer) []byte {
	if buffer.ptr == nil {
		return nil
	}
	defer C.sesame_buffer_free(buffer)
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(buffer.ptr)), int(buffer.len))...)
}

// cancellable runs fn with a cancel signal that fires when ctx is done; a ctx that can
// never be done (context.Background) costs nothing.
func cancellable(ctx context.Context, fn func(cancel *C.SesameCancel) C.int32_t) (C.int32_t, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if ctx.Done() == nil {
		return fn(nil), nil
	}
	cancel := C.sesame_cancel_new()
	finished := make(chan struct{})
	watcher := make(chan struct{})
	go func() {
		defer close(watcher)
		select {
		case <-ctx.Done():
			C.sesame_cancel(cancel)
		case <-finished:
		}
	}()
	status := fn(cancel)
	close(finished)
	// The watcher may be inside sesame_cancel: free the signal only after it is out.
	<-watcher
	C.sesame_cancel_free(cancel)
	if status == C.SESAME_CANCELLED {
		return status, ctx.Err()
	}
	return status, nil
}

// open turns a reply into its result, or into the error its envelope describes.
func open(status C.int32_t, reply []byte) (json.RawMessage, error) {
	if status == C.SESAME_OK {
		var envelope struct {
			Ok json.RawMessage `json:"ok"`
		}
		if err := json.Unmarshal(reply, &envelope); err != nil {
			return nil, &Error{Code: CodeServer, Message: "the Sesame core answered something that is not JSON: " + err.Error()}
		}
		return envelope.Ok, nil
	}
	var envelope struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(reply, &envelope); err != nil || envelope.Error == nil {
		return nil, &Error{Code: CodeServer, Message: "the Sesame core failed without saying why"}
	}
	return nil, errorFromEnvelope(envelope.Error)
}

// newNative authenticates a client from ClientOptions JSON.
func newNative(ctx context.Context, options []byte) (*native, error) {
	var handle *C.SesameClient
	var reply C.SesameBuffer
	status, err := cancellable(ctx, func(cancel *C.SesameCancel) C.int32_t {
		ptr, n := bytesOf(options)
		return C.sesame_client_new(ptr, n, cancel, &handle, &reply)
	})
	body := taken(reply)
	if err != nil {
		return nil, err
	}
	if status != C.SESAME_OK {
		_, err := open(status, body)
		return nil, err
	}
	return &native{handle: handle}, nil
}

// invoke runs one call: the request's JSON and the content uploaded beside it in; the
// result's JSON and the file content returned beside it out.
func (n *native) invoke(ctx context.Context, request []byte, data []byte) (json.RawMessage, []byte, error) {
	var handle *C.SesameClient
	if n != nil {
		handle = n.handle
	}
	var reply, content C.SesameBuffer
	status, err := cancellable(ctx, func(cancel *C.SesameCancel) C.int32_t {
		requestPtr, requestLen := bytesOf(request)
		dataPtr, dataLen := bytesOf(data)
		return C.sesame_invoke(handle, requestPtr, requestLen, dataPtr, dataLen, cancel, &reply, &content)
	})
	body, bytes := taken(reply), taken(content)
	if err != nil {
		return nil, nil, err
	}
	result, err := open(status, body)
	return result, bytes, err
}

// free releases the handle; the caller makes sure no call is running on it.
func (n *native) free() {
	C.sesame_client_free(n.handle)
	n.handle = nil
}
