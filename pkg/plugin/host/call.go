package host

import (
	"bytes"
	"context"
	"fmt"
	"net/rpc"
	"reflect"
	"strings"
)

// callConn makes one net/rpc call and waits for it until ctx is done. The
// reply is decoded into a value of its own and copied into reply only on
// success: an abandoned call may still be answered later, and must then
// write nothing the caller can see.
func callConn(ctx context.Context, conn *rpc.Client, method string, args, reply any) error {
	rv := reflect.ValueOf(reply)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%s: reply must be a non-nil pointer, got %T", method, reply)
	}
	fresh := reflect.New(rv.Type().Elem())
	call := conn.Go(method, args, fresh.Interface(), make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error != nil {
			return fmt.Errorf("%s: %w", method, call.Error)
		}
		rv.Elem().Set(fresh.Elem())
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s got no answer in time: %w", method, ctx.Err())
	}
}

// connCaller calls over one connection, for InitPlugin during a start.
type connCaller struct{ conn *rpc.Client }

func (c connCaller) Call(ctx context.Context, method string, args, reply any) error {
	return callConn(ctx, c.conn, method, args, reply)
}

// lineWriter logs what it is given, one entry per line.
type lineWriter struct {
	logger interface{ Info(string, ...any) }
}

func (w lineWriter) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		if s := strings.TrimRight(string(line), "\r\n"); s != "" {
			w.logger.Info("Plugin output", "line", s)
		}
	}
	return len(p), nil
}
