package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/storetest"
)

// TestImportWhileDatabaseBusy imports 6,000 rows while another process holds
// SQLite's write lock for longer than the server waits for it: the import
// answers that the database is busy (it never hangs), writes nothing, and
// works once the lock is gone.
func TestImportWhileDatabaseBusy(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	a := s.NewCommunity(t, s.Operator(), "繁忙小区", "BZ")
	m := a.Manager
	m.Must(204, "DELETE", a.Path(fmt.Sprintf("/rooms/%d", a.RoomID)), nil)
	m.Must(201, "POST", a.Path(fmt.Sprintf("/units/%d/rooms/batch", a.UnitID)), map[string]any{"floors": 50, "rooms_per_floor": 20})
	rows := make([][]string, 6000)
	for i := range rows {
		floor, num := (i%1000)/20+1, i%20+1
		rows[i] = []string{fmt.Sprintf("%d%02d", floor, num), fmt.Sprintf("业主%04d", i), fmt.Sprintf("139%08d", i)}
	}
	file := fillTemplate(t, m, a, rows)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.DataDir(), "linli.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan apptest.Response, 1)
	go func() { done <- importFile(m, a, "业主.xlsx", file) }()
	var r apptest.Response
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the import never answered while the database was busy")
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if r.Status != 503 || r.Detail() != "数据库正忙，没有写入任何数据，请稍后重新导入" {
		t.Errorf("import while busy: %d %s", r.Status, r.Body)
	}
	if n := residentCount(t, m, a); n != 0 {
		t.Fatalf("a failed import left %d residents", n)
	}
	var result struct{ Created int }
	r = importFile(m, a, "业主.xlsx", file)
	r.JSON(t, &result)
	if r.Status != 200 || result.Created != 6000 {
		t.Fatalf("import once the database is free: %d %s", r.Status, r.Body)
	}
}
