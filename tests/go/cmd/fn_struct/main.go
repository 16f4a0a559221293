// Command fn_struct is the Go side of the task-function interop tests: a Go service that knows
// a task function's arguments as a struct with json tags.
//
//	fn_struct -redis 127.0.0.1:6379 -mode enqueue < welcome.json
//
// reads a Welcome as JSON on stdin (a slice, map or []byte field left out stays nil), builds the task the way a Go producer does
// (json.Marshal of the struct, asynq.NewTask) and enqueues it; prints {"id": "...",
// "payload": "<the marshalled JSON as text>"}.
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

func enqueue(rf *peershared.RedisFlags) {
	var w Welcome
	peershared.ReadJSON(&w)
	payload, err := json.Marshal(w)
	if err != nil {
		peershared.Fatal("marshal: %v", err)
	}
	client := asynq.NewClient(rf.Opt())
	defer client.Close()
	info, err := client.Enqueue(asynq.NewTask("fn:welcome", payload))
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
	flag.Parse()
	switch *mode {
	case "enqueue":
		enqueue(rf)
	case "server":
		serve(rf)
	default:
		peershared.Fatal("-mode must be enqueue or server, not %q", *mode)
	}
}
