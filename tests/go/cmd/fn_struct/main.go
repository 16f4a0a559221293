// Command fn_struct is the Go side of the task-function interop tests: a Go service that knows
// a task function's arguments as a struct with json tags.
//
//	fn_struct -redis 127.0.0.1:6379 -mode enqueue < welcome.json
//
// reads a Welcome as JSON on stdin (a slice, map or []byte field left out stays nil), builds
// the task the way a Go producer does (json.Marshal of the struct, asynq.NewTask) and enqueues
// it; prints {"id": "...", "payload": "<the marshalled JSON as text>"}. With -task notice it
// reads and enqueues a Notice ("fn:notice") instead; with -unique 60s it enqueues with
// asynq.Unique and prints {"duplicate": true, "payload": "..."} when the lock is held.
//
//	fn_struct -redis 127.0.0.1:6379 -mode server
//
// runs a Go asynq.Server whose handler for "fn:welcome" decodes each payload into a Welcome
// with unknown fields refused, and prints one JSON line per task:
// {"event": "decoded", "id": "...", "welcome": {...}} or {"event": "error", "error": "..."}.
// "started" is printed once the server runs; SIGTERM/SIGINT shut it down.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/signal"
	"syscall"
	"time"

	"asynqpy.test/gopeer/cmd/peer_shared"
	"github.com/hibiken/asynq"
)

// Address is a nested struct argument; Lines left unset is a nil slice, which json.Marshal
// writes as null.
type Address struct {
	City  string   `json:"city"`
	Zip   string   `json:"zip"`
	Lines []string `json:"lines"`
}

// Welcome holds the arguments of the Python task function
// welcome(user_id, email, sent_at, tags, scores, token, address, note=None).
type Welcome struct {
	UserID  int64              `json:"user_id"`
	Email   string             `json:"email"`
	SentAt  time.Time          `json:"sent_at"`
	Tags    []string           `json:"tags"`
	Scores  map[string]float64 `json:"scores"`
	Token   []byte             `json:"token"`
	Address Address            `json:"address"`
	Note    *string            `json:"note,omitempty"`
}

// Notice holds the arguments of the Python task function notice(user_id, text, tags, score):
// no time, so that the same arguments can marshal to the same bytes in Python and Go.
type Notice struct {
	UserID int64    `json:"user_id"`
	Text   string   `json:"text"`
	Tags   []string `json:"tags"`
	Score  float64  `json:"score"`
}

func enqueue(rf *peershared.RedisFlags, task string, unique time.Duration) {
	var args any
	switch task {
	case "welcome":
		args = &Welcome{}
	case "notice":
		args = &Notice{}
	default:
		peershared.Fatal("-task must be welcome or notice, not %q", task)
	}
	peershared.ReadJSON(args)
	payload, err := json.Marshal(args)
	if err != nil {
		peershared.Fatal("marshal: %v", err)
	}
	var opts []asynq.Option
	if unique > 0 {
		opts = append(opts, asynq.Unique(unique))
	}
	client := asynq.NewClient(rf.Opt())
	defer client.Close()
	info, err := client.Enqueue(asynq.NewTask("fn:"+task, payload), opts...)
	if errors.Is(err, asynq.ErrDuplicateTask) {
		peershared.WriteJSON(map[string]any{"duplicate": true, "payload": string(payload)})
		return
	}
	if err != nil {
		peershared.Fatal("enqueue: %v", err)
	}
	peershared.WriteJSON(map[string]string{"id": info.ID, "payload": string(payload)})
}

func handle(ctx context.Context, t *asynq.Task) error {
	id, _ := asynq.GetTaskID(ctx)
	dec := json.NewDecoder(bytes.NewReader(t.Payload()))
	dec.DisallowUnknownFields()
	var w Welcome
	if err := dec.Decode(&w); err != nil {
		peershared.Emit(map[string]string{"event": "error", "id": id, "error": err.Error()})
		return err
	}
	peershared.Emit(map[string]any{"event": "decoded", "id": id, "welcome": w})
	return nil
}

func serve(rf *peershared.RedisFlags) {
	srv := asynq.NewServer(rf.Opt(), asynq.Config{
		Concurrency:       2,
		Queues:            map[string]int{"default": 1},
		TaskCheckInterval: 100 * time.Millisecond,
		ShutdownTimeout:   3 * time.Second,
		LogLevel:          asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc("fn:welcome", handle)
	if err := srv.Start(mux); err != nil {
		peershared.Fatal("server start: %v", err)
	}
	peershared.Emit(map[string]string{"event": "started"})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	srv.Shutdown()
}

func main() {
	rf := peershared.AddRedisFlags()
	mode := flag.String("mode", "", "enqueue or server")
	task := flag.String("task", "welcome", "enqueue: welcome or notice")
	unique := flag.Duration("unique", 0, "enqueue: the uniqueness TTL (0: not unique)")
	flag.Parse()
	switch *mode {
	case "enqueue":
		enqueue(rf, *task, *unique)
	case "server":
		serve(rf)
	default:
		peershared.Fatal("-mode must be enqueue or server, not %q", *mode)
	}
}
