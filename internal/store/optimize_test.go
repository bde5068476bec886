package store_test

import (
	"context"
	"testing"
	"time"

	"linli/internal/ent/loginfailure"
	"linli/internal/store"
)

// TestOptimizeRefreshesStatistics checks that a table filled one row at a
// time after the database was opened gets planner statistics from
// Optimize, as the janitor runs it every hour.
func TestOptimizeRefreshesStatistics(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stats := func() int {
		t.Helper()
		var n int
		err := db.DB.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = ?", loginfailure.Table).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 2000 {
		err := db.LoginFailure.Create().SetAccount("a" + string(rune('a'+i%26))).SetIP("127.0.0.1").SetCreatedAt(time.Now()).Exec(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := stats(); n != 0 {
		t.Fatalf("statistics of %s before Optimize: %d rows, want none (the test would prove nothing)", loginfailure.Table, n)
	}
	db.Optimize(ctx)
	if stats() == 0 {
		t.Errorf("no statistics of %s after Optimize", loginfailure.Table)
	}
}
