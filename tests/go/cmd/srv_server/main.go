// Command srv_server runs a Go asynq.Server for the Python worker-server interop tests.
//
// Handlers, chosen by task type:
//
//	"fail"  returns the error "go handler failed"
//	"skip"  returns an error wrapping asynq.SkipRetry
//	"sleep" sleeps for the number of seconds in the payload, or until the context is done
//	other   succeeds
//
// Every finished task is printed on stdout as one JSON line
// {"event":"done","id":..,"type":..,"queue":..,"payload":<base64>,"retried":n,"error":".."};
// "started" is printed once the server runs. With -aggregate, groups are aggregated into one
// task of type "aggregated:<group>" whose payload joins the members' payloads with "|"
// (printed as {"event":"aggregated","group":..,"size":n}). SIGTERM/SIGINT shut it down.
//
//	srv_server -redis 127.0.0.1:6379 -queues default=1 -concurrency 4
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"asynqpy.test/gopeer/cmd/peer_shared"
	"github.com/hibiken/asynq"
)

var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func emit(v any) {
	out.Lock()
	defer out.Unlock()
	if err := out.enc.Encode(v); err != nil {
		peershared.Fatal("writing JSON: %v", err)
	}
}

type done struct {
	Event   string `json:"event"`
	ID      string `json:"id"`
	Type    string `json:"type"`
	Queue   string `json:"queue"`
	Payload []byte `json:"payload"`
	Retried int    `json:"retried"`
	Error   string `json:"error"`
}

func handle(ctx context.Context, t *asynq.Task) error {
	var err error
	switch t.Type() {
	case "fail":
		err = errors.New("go handler failed")
	case "skip":
		err = fmt.Errorf("go skips: %w", asynq.SkipRetry)
	case "sleep":
		secs, _ := strconv.ParseFloat(string(t.Payload()), 64)
		select {
		case <-time.After(time.Duration(secs * float64(time.Second))):
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	id, _ := asynq.GetTaskID(ctx)
	queue, _ := asynq.GetQueueName(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	emit(done{"done", id, t.Type(), queue, t.Payload(), retried, peershared.ErrString(err)})
	return err
}

func parseQueues(s string) map[string]int {
	queues := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		name, prio, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(prio)
		if err != nil {
			peershared.Fatal("bad priority in %q", part)
		}
		queues[name] = n
	}
	return queues
}

func main() {
	rf := peershared.AddRedisFlags()
	queues := flag.String("queues", "default=1", "queue=priority,...")
	concurrency := flag.Int("concurrency", 4, "worker concurrency")
	shutdown := flag.Float64("shutdown-timeout", 2, "shutdown timeout, seconds")
	retryDelay := flag.Float64("retry-delay", 60, "fixed retry delay, seconds")
	aggregate := flag.Bool("aggregate", false, "aggregate groups")
	grace := flag.Float64("grace", 1, "group grace period, seconds")
	flag.Parse()

	cfg := asynq.Config{
		Concurrency:              *concurrency,
		Queues:                   parseQueues(*queues),
		ShutdownTimeout:          time.Duration(*shutdown * float64(time.Second)),
		TaskCheckInterval:        100 * time.Millisecond,
		DelayedTaskCheckInterval: 200 * time.Millisecond,
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration {
			return time.Duration(*retryDelay * float64(time.Second))
		},
		LogLevel: asynq.WarnLevel,
	}
	if *aggregate {
		cfg.GroupGracePeriod = time.Duration(*grace * float64(time.Second))
		cfg.GroupAggregator = asynq.GroupAggregatorFunc(func(group string, tasks []*asynq.Task) *asynq.Task {
			parts := make([][]byte, 0, len(tasks))
			for _, t := range tasks {
				parts = append(parts, t.Payload())
			}
			emit(map[string]any{"event": "aggregated", "group": group, "size": len(tasks)})
			return asynq.NewTask("aggregated:"+group, bytes.Join(parts, []byte("|")))
		})
	}
	srv := asynq.NewServer(rf.Opt(), cfg)
	if err := srv.Start(asynq.HandlerFunc(handle)); err != nil {
		peershared.Fatal("start: %v", err)
	}
	emit(map[string]string{"event": "started"})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	srv.Shutdown()
}
