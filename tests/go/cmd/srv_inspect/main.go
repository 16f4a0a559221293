// Command srv_inspect runs one Go asynq.Inspector call for the worker-server interop tests
// and prints the result as JSON.
//
//	srv_inspect -redis ADDR servers              Inspector.Servers()
//	srv_inspect -redis ADDR cancel ID            Inspector.CancelProcessing(ID)
//	srv_inspect -redis ADDR task QUEUE ID        Inspector.GetTaskInfo(QUEUE, ID)
package main

import (
	"flag"
	"time"

	"asynqpy.test/gopeer/cmd/peer_shared"
	"github.com/hibiken/asynq"
)

type worker struct {
	TaskID   string `json:"task_id"`
	TaskType string `json:"task_type"`
	Payload  []byte `json:"payload"`
	Queue    string `json:"queue"`
	Started  int64  `json:"started"`
	Deadline int64  `json:"deadline"`
}

type server struct {
	ID             string         `json:"id"`
	Host           string         `json:"host"`
	PID            int            `json:"pid"`
	Concurrency    int            `json:"concurrency"`
	Queues         map[string]int `json:"queues"`
	StrictPriority bool           `json:"strict_priority"`
	Started        int64          `json:"started"`
	Status         string         `json:"status"`
	Workers        []worker       `json:"workers"`
}

func unix(t time.Time) int64 { return t.Unix() }

func main() {
	rf := peershared.AddRedisFlags()
	flag.Parse()
	insp := asynq.NewInspector(rf.Opt())
	defer insp.Close()
	args := flag.Args()
	if len(args) == 0 {
		peershared.Fatal("usage: srv_inspect servers | cancel ID | task QUEUE ID")
	}
	switch args[0] {
	case "servers":
		list, err := insp.Servers()
		if err != nil {
			peershared.Fatal("servers: %v", err)
		}
		res := []server{}
		for _, s := range list {
			ws := []worker{}
			for _, w := range s.ActiveWorkers {
				ws = append(ws, worker{w.TaskID, w.TaskType, w.TaskPayload, w.Queue, unix(w.Started), unix(w.Deadline)})
			}
			res = append(res, server{s.ID, s.Host, s.PID, s.Concurrency, s.Queues, s.StrictPriority,
				unix(s.Started), s.Status, ws})
		}
		peershared.WriteJSON(res)
	case "cancel":
		if err := insp.CancelProcessing(args[1]); err != nil {
			peershared.Fatal("cancel: %v", err)
		}
		peershared.WriteJSON(map[string]bool{"ok": true})
	case "task":
		info, err := insp.GetTaskInfo(args[1], args[2])
		if err != nil {
			peershared.Fatal("task: %v", err)
		}
		peershared.WriteJSON(peershared.Info(info))
	default:
		peershared.Fatal("unknown command %q", args[0])
	}
}
