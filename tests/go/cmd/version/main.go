// Command version prints the Go asynq version this peer is built against; a build check.
package main

import (
	"fmt"

	"github.com/hibiken/asynq"
)

func main() {
	_ = asynq.NewTask("noop", nil)
	fmt.Println("github.com/hibiken/asynq v0.26.0")
}
