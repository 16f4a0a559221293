// Command insp_scheduler runs a Go asynq v0.26.0 Scheduler with a short heartbeat, so tests can
// read its entries and enqueue history through both Inspectors.
//
// Entries (fixed): "@every 1s" of task "tick" (payload "tock") with the options Queue("sq"),
// MaxRetry(3), Timeout(90s), Retention(2h), Group("g") and Deadline(2100-01-01 UTC) (Go's
// Inspector drops the Group option, docs/compatibility.md#quirk-scheduler-option-strings); "@every 1h" of task "hourly" with no options;
// "0 0 1 1 *" of task "yearly" with ProcessIn(10m).
// Each enqueue is printed on stdout as {"event": "enqueued", "id": "...", "err": "..."}.
// SIGTERM shuts it down (which clears its entries and history).
//
//	insp_scheduler -redis 127.0.0.1:6379 -heartbeat 1s
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
)

var mu sync.Mutex

func emit(v map[string]string) {
	mu.Lock()
	defer mu.Unlock()
	_ = json.NewEncoder(os.Stdout).Encode(v)
}

func main() {
	addr := flag.String("redis", "127.0.0.1:6379", "standalone Redis host:port")
	cluster := flag.String("cluster", "", "comma-separated Redis Cluster node addresses")
	heartbeat := flag.Duration("heartbeat", time.Second, "scheduler heartbeat interval")
	flag.Parse()
	var opt asynq.RedisConnOpt = asynq.RedisClientOpt{Addr: *addr}
	if *cluster != "" {
		opt = asynq.RedisClusterClientOpt{Addrs: strings.Split(*cluster, ",")}
	}
	s := asynq.NewScheduler(opt, &asynq.SchedulerOpts{
		HeartbeatInterval: *heartbeat,
		LogLevel:          asynq.ErrorLevel,
		PostEnqueueFunc: func(info *asynq.TaskInfo, err error) {
			ev := map[string]string{"event": "enqueued"}
			if info != nil {
				ev["id"] = info.ID
			}
			if err != nil {
				ev["err"] = err.Error()
			}
			emit(ev)
		},
	})
	register := func(spec string, t *asynq.Task, opts ...asynq.Option) {
		if _, err := s.Register(spec, t, opts...); err != nil {
			fmt.Fprintf(os.Stderr, "insp_scheduler: register %q: %v\n", spec, err)
			os.Exit(1)
		}
	}
	register("@every 1s", asynq.NewTask("tick", []byte("tock")),
		asynq.Queue("sq"), asynq.MaxRetry(3), asynq.Timeout(90*time.Second),
		asynq.Retention(2*time.Hour), asynq.Group("g"),
		asynq.Deadline(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)))
	register("@every 1h", asynq.NewTask("hourly", nil))
	register("0 0 1 1 *", asynq.NewTask("yearly", []byte{1, 2}), asynq.ProcessIn(10*time.Minute))
	if err := s.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "insp_scheduler: %v\n", err)
		os.Exit(1)
	}
	emit(map[string]string{"event": "running"})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	s.Shutdown()
}
