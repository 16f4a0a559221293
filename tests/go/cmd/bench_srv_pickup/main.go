// Command bench_srv_pickup runs a Go asynq v0.26.0 server whose handler reports when it
// picked each task up, for the pickup latency benchmark (benchmarks/worker_pickup.py).
//
// The handler's first act is to read the clock; it then prints one line on stdout:
// "<payload> <time.Now().UnixNano()>". The benchmark puts the enqueue time (Unix nanoseconds,
// same machine clock) in the payload, so latency = second field - first field. The program
// runs until SIGTERM/SIGINT; asynq's own log goes to stderr.
//
//	bench_srv_pickup -redis 127.0.0.1:6379 -concurrency 10
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
)

func main() {
	addr := flag.String("redis", "127.0.0.1:6379", "Redis address host:port")
	db := flag.Int("db", 0, "Redis database number")
	concurrency := flag.Int("concurrency", 10, "tasks processed at once")
	queue := flag.String("queue", "default", "queue to process")
	flag.Parse()

	var mu sync.Mutex
	handler := asynq.HandlerFunc(func(_ context.Context, t *asynq.Task) error {
		now := time.Now().UnixNano()
		line := string(t.Payload()) + " " + strconv.FormatInt(now, 10) + "\n"
		mu.Lock()
		defer mu.Unlock()
		_, err := os.Stdout.WriteString(line) // os.Stdout is unbuffered: the line leaves now
		return err
	})
	srv := asynq.NewServer(
		asynq.RedisClientOpt{Addr: *addr, DB: *db},
		asynq.Config{Concurrency: *concurrency, Queues: map[string]int{*queue: 1}},
	)
	if err := srv.Run(handler); err != nil {
		fmt.Fprintln(os.Stderr, "bench_srv_pickup:", err)
		os.Exit(1)
	}
}
