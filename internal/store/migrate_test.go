package store_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"linli/internal/store"
	"linli/internal/storetest"
)

// TestInstancesMigrateTogether starts processes that open one fresh
// PostgreSQL database at the same moment, as instances behind a load
// balancer do when they are deployed together: each of them migrates, none
// fails on a table another one is creating.
func TestInstancesMigrateTogether(t *testing.T) {
	base := os.Getenv("TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("TEST_POSTGRES_URL is not set")
	}
	url := storetest.FreshPostgres(t, base)
	const n = 3
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestOpenInProcess$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), "LINLI_TEST_OPEN_URL="+url, fmt.Sprintf("LINLI_TEST_OPEN_DIR=%s", t.TempDir()))
	}
	outs := make([][]byte, n)
	errs := make(chan error, n)
	for i, c := range cmds {
		go func() {
			var err error
			outs[i], err = c.CombinedOutput()
			errs <- err
		}()
	}
	for range n {
		<-errs
	}
	for i, c := range cmds {
		if !c.ProcessState.Success() {
			t.Errorf("process %d of %d could not open the new database:\n%s", i+1, n, outs[i])
		}
	}
}

// TestOpenInProcess opens the database of LINLI_TEST_OPEN_URL, for
// TestInstancesMigrateTogether's processes.
func TestOpenInProcess(t *testing.T) {
	url := os.Getenv("LINLI_TEST_OPEN_URL")
	if url == "" {
		t.Skip("run by TestInstancesMigrateTogether")
	}
	db, err := store.Open(context.Background(), url, os.Getenv("LINLI_TEST_OPEN_DIR"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}
