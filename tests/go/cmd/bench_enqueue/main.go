// Command bench_enqueue measures Go asynq's Client.EnqueueContext throughput against one Redis,
// as the reference the Python benchmark suite (benchmarks/) compares with.
//
// It enqueues -n tasks of type -type with a -payload byte payload into queue -queue, from
// -goroutines goroutines sharing one asynq.Client (1 = a plain sequential loop), -rounds times,
// after one warm-up enqueue (which registers the queue and loads the script). It prints one JSON
// object with the best round:
//
//	bench_enqueue -redis 127.0.0.1:6379 -n 20000 -goroutines 1
//	{"impl":"go","goroutines":1,"tasks":20000,"seconds":0.98,"tasks_per_sec":20408.1,"rounds":[...]}
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"
)

type result struct {
	Impl        string    `json:"impl"`
	Goroutines  int       `json:"goroutines"`
	Tasks       int       `json:"tasks"`
	Seconds     float64   `json:"seconds"`
	TasksPerSec float64   `json:"tasks_per_sec"`
	Rounds      []float64 `json:"rounds"`
}

func main() {
	addr := flag.String("redis", "127.0.0.1:6379", "Redis address host:port")
	db := flag.Int("db", 0, "Redis database number")
	n := flag.Int("n", 10000, "tasks per round")
	goroutines := flag.Int("goroutines", 1, "concurrent enqueuers sharing one client")
	rounds := flag.Int("rounds", 3, "timed rounds; the best is reported")
	payloadSize := flag.Int("payload", 64, "payload size in bytes")
	typeName := flag.String("type", "bench:enqueue", "task type")
	queue := flag.String("queue", "bench", "queue name")
	flag.Parse()
	if *goroutines < 1 || *n < *goroutines || *rounds < 1 {
		fail(fmt.Errorf("need n >= goroutines >= 1 and rounds >= 1"))
	}

	client := asynq.NewClient(asynq.RedisClientOpt{Addr: *addr, DB: *db, PoolSize: *goroutines + 2})
	defer client.Close()
	ctx := context.Background()
	task := asynq.NewTask(*typeName, bytes.Repeat([]byte("x"), *payloadSize))
	if _, err := client.EnqueueContext(ctx, task, asynq.Queue(*queue)); err != nil {
		fail(err)
	}

	res := result{Impl: "go", Goroutines: *goroutines, Tasks: *n, Seconds: -1}
	for r := 0; r < *rounds; r++ {
		secs, err := round(ctx, client, task, *queue, *n, *goroutines)
		if err != nil {
			fail(err)
		}
		res.Rounds = append(res.Rounds, secs)
		if res.Seconds < 0 || secs < res.Seconds {
			res.Seconds = secs
		}
	}
	res.TasksPerSec = float64(*n) / res.Seconds
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fail(err)
	}
}

// round enqueues n tasks split over g goroutines and returns the wall time in seconds.
func round(ctx context.Context, c *asynq.Client, t *asynq.Task, q string, n, g int) (float64, error) {
	var wg sync.WaitGroup
	errs := make(chan error, g)
	start := time.Now()
	for i := 0; i < g; i++ {
		share := n / g
		if i < n%g {
			share++
		}
		wg.Add(1)
		go func(share int) {
			defer wg.Done()
			for j := 0; j < share; j++ {
				if _, err := c.EnqueueContext(ctx, t, asynq.Queue(q)); err != nil {
					errs <- err
					return
				}
			}
		}(share)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return elapsed, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench_enqueue:", err)
	os.Exit(1)
}
