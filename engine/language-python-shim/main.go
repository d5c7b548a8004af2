// Command pulumi-language-python (engine shim) puts the v3.68.0 Python language
// host behind the current Pulumi CLI. See engine/README.md.
//
// The only Python host the Go module proxy serves is the one in
// github.com/pulumi/pulumi/sdk/v3@v3.68.0. The current CLI starts Python policy
// packs with LanguageRuntime.RunPlugin and fills only the newer `info` field
// (ProgramInfo), while that host reads the older `program` field: with it empty,
// it runs `python ""` in the project directory, i.e. the project's __main__.py.
//
// This shim starts the real host (realHostName next to this binary, or
// $PULUMI_LANGUAGE_PYTHON_REAL) with the same arguments, serves its own
// port and forwards every gRPC call to the host unchanged, byte for byte, with
// one exception: a RunPlugin request whose `program` is empty gets
// `program = info.program_directory/info.entry_point` (what the CLI sent before
// ProgramInfo existed) and, if empty, `pwd = info.program_directory`.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// realHostName is the real host's file name, next to this binary; engine/build.sh
// sets it with -X from versions.env (LANGUAGE_PYTHON_VERSION).
var realHostName = "pulumi-language-python-v3.68.0"

const (
	runPlugin = "/pulumirpc.LanguageRuntime/RunPlugin"
	// Same limit as Pulumi's own plugins (rpcutil.MaxRPCMessageSize).
	maxMessageSize = 1024 * 1024 * 400
)

// frame is one gRPC message, kept as its wire bytes.
type frame struct{ payload []byte }

// rawCodec passes messages through without decoding them. Its name is "proto"
// so that both ends keep the content type application/grpc+proto.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	f, ok := v.(*frame)
	if !ok {
		return nil, fmt.Errorf("shim codec: unexpected message type %T", v)
	}
	return f.payload, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	f, ok := v.(*frame)
	if !ok {
		return fmt.Errorf("shim codec: unexpected message type %T", v)
	}
	f.payload = append([]byte(nil), data...)
	return nil
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python (shim): "+format+"\n", args...)
	os.Exit(1)
}

func realHostPath() string {
	if p := os.Getenv("PULUMI_LANGUAGE_PYTHON_REAL"); p != "" {
		return p
	}
	self, err := os.Executable()
	if err != nil {
		fatal("locating own executable: %v", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	return filepath.Join(filepath.Dir(self), realHostName)
}

func main() {
	// Pdeathsig is tied to the thread that starts the child: keep main on one thread.
	runtime.LockOSThread()

	// 1. Start the real host with our arguments; its first stdout line is its port.
	host := exec.Command(realHostPath(), os.Args[1:]...)
	host.Stdin = os.Stdin
	host.Stderr = os.Stderr
	setParentDeathSignal(host)
	out, err := host.StdoutPipe()
	if err != nil {
		fatal("%v", err)
	}
	if err := host.Start(); err != nil {
		fatal("starting the real language host: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- host.Wait() }()

	stdout := bufio.NewReader(out)
	line, err := stdout.ReadString('\n')
	if err != nil {
		_ = host.Process.Kill()
		fatal("reading the real host's port: %v (read %q)", err, line)
	}
	hostAddr := "127.0.0.1:" + strings.TrimSpace(line)

	conn, err := grpc.NewClient(hostAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)))
	if err != nil {
		_ = host.Process.Kill()
		fatal("connecting to the real host at %s: %v", hostAddr, err)
	}

	// 2. Serve our own port: every method goes to the forwarding handler.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = host.Process.Kill()
		fatal("listening: %v", err)
	}
	server := grpc.NewServer(
		grpc.ForceServerCodec(rawCodec{}),
		grpc.UnknownServiceHandler(forwarder(conn)),
		grpc.MaxRecvMsgSize(maxMessageSize),
		grpc.MaxSendMsgSize(maxMessageSize),
	)
	go func() { _ = server.Serve(lis) }()
	fmt.Printf("%d\n", lis.Addr().(*net.TCPAddr).Port)

	// Anything else the host prints on stdout goes to ours.
	go func() { _, _ = io.Copy(os.Stdout, stdout) }()

	// 3. Live as long as the host; pass termination signals on to it.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	code := 0
	select {
	case err := <-exited:
		code = exitCode(err)
	case sig := <-signals:
		_ = host.Process.Signal(sig)
		code = exitCode(<-exited)
	}
	server.Stop()
	_ = conn.Close()
	os.Exit(code)
}

func exitCode(err error) int {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if c := exitErr.ExitCode(); c > 0 {
			return c
		}
		return 1
	}
	if err != nil {
		return 1
	}
	return 0
}

// forwarder relays one call (unary or streaming) to the real host.
func forwarder(conn *grpc.ClientConn) grpc.StreamHandler {
	return func(_ any, in grpc.ServerStream) error {
		method, ok := grpc.MethodFromServerStream(in)
		if !ok {
			return errors.New("shim: no method in the incoming stream")
		}
		ctx, cancel := context.WithCancel(in.Context())
		defer cancel()
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			ctx = metadata.NewOutgoingContext(ctx, md.Copy())
		}
		desc := &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}
		up, err := conn.NewStream(ctx, desc, method, grpc.ForceCodec(rawCodec{}))
		if err != nil {
			return err
		}

		// Requests: caller -> host.
		sent := make(chan error, 1)
		go func() {
			for {
				f := &frame{}
				if err := in.RecvMsg(f); err != nil {
					if errors.Is(err, io.EOF) {
						sent <- up.CloseSend()
					} else {
						sent <- err
					}
					return
				}
				if method == runPlugin {
					if err := fillRunPlugin(f); err != nil {
						sent <- err
						return
					}
				}
				if err := up.SendMsg(f); err != nil {
					// io.EOF: the host already ended the call (e.g. Unimplemented
					// before reading the request); its status comes with RecvMsg.
					if errors.Is(err, io.EOF) {
						err = nil
					}
					sent <- err
					return
				}
			}
		}()

		// Responses: host -> caller.
		received := make(chan error, 1)
		go func() {
			if md, err := up.Header(); err == nil && len(md) > 0 {
				if err := in.SendHeader(md); err != nil {
					received <- err
					return
				}
			}
			for {
				f := &frame{}
				if err := up.RecvMsg(f); err != nil {
					received <- err
					return
				}
				if err := in.SendMsg(f); err != nil {
					received <- err
					return
				}
			}
		}()

		for {
			select {
			case err := <-sent:
				if err != nil {
					return err // the caller went away or sent garbage
				}
				sent = nil // half-closed; keep relaying responses
			case err := <-received:
				in.SetTrailer(up.Trailer())
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err // the host's status, passed through
			}
		}
	}
}

// fillRunPlugin sets the pre-ProgramInfo fields the v3.68.0 host reads.
func fillRunPlugin(f *frame) error {
	req := &pulumirpc.RunPluginRequest{}
	if err := proto.Unmarshal(f.payload, req); err != nil {
		return fmt.Errorf("shim: decoding RunPluginRequest: %w", err)
	}
	info := req.GetInfo()
	//nolint:staticcheck // Program is deprecated, and exactly what the old host reads.
	if req.Program != "" || info == nil || info.GetProgramDirectory() == "" {
		return nil
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	req.Program = filepath.Join(info.GetProgramDirectory(), entry) //nolint:staticcheck // see above
	if req.Pwd == "" {
		req.Pwd = info.GetProgramDirectory()
	}
	payload, err := proto.Marshal(req)
	if err != nil {
		return fmt.Errorf("shim: encoding RunPluginRequest: %w", err)
	}
	f.payload = payload
	return nil
}
