// Command peer_enqueue enqueues tasks with Go's asynq.Client.
//
// Input (stdin): a JSON array of peershared.TaskSpec. Output (stdout): a JSON array with, for
// each task in order, {"info": <TaskInfo returned by Enqueue or null>, "error": "<text or empty>"}.
//
//	peer_enqueue -redis 127.0.0.1:6379 < tasks.json
package main

import (
	"flag"

	"asynqpy.test/gopeer/cmd/peer_shared"
	"github.com/hibiken/asynq"
)

type result struct {
	Info  *peershared.TaskInfo `json:"info"`
	Error string               `json:"error"`
}

func main() {
	rf := peershared.AddRedisFlags()
	flag.Parse()
	var specs []peershared.TaskSpec
	peershared.ReadJSON(&specs)

	client := asynq.NewClient(rf.Opt())
	defer client.Close()
	results := make([]result, 0, len(specs))
	for _, spec := range specs {
		info, err := client.Enqueue(spec.Task(), spec.Options.List()...)
		results = append(results, result{peershared.Info(info), peershared.ErrString(err)})
	}
	peershared.WriteJSON(results)
}
