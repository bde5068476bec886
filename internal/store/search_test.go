package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"linli/internal/actor"
	"linli/internal/community"
	"linli/internal/device"
	"linli/internal/ent"
	"linli/internal/ent/application"
	"linli/internal/ent/card"
	"linli/internal/ent/pass"
	"linli/internal/ent/resident"
	"linli/internal/housing"
	"linli/internal/store"
	"linli/internal/storetest"
)

// searchNames are residents' names and phones that try the edges of
// substring search: Chinese, ASCII and non-ASCII letters in both cases, and
// the characters LIKE and FTS5 treat specially.
var searchNames = [][2]string{
	{"张三丰", "13800001111"}, {"张三", "13912345678"}, {"李四", ""}, {"Alice Smith", "13700000000"},
	{"ALICE", ""}, {"ÄBC", ""}, {"äbc", ""}, {"50%折扣", ""}, {"a_b", ""}, {"ab", ""},
	{`say "hi" now`, ""}, {`back\slash`, ""}, {"王 五", "15000012345"},
}

// searchQueries are typed into the box: one, two and more characters.
var searchQueries = []string{
	"张", "三", "张三", "张三丰", "三丰", "张三丰x", "alice", "ALI", "lic", "li", "äb", "ÄBC", "äbc", "abc",
	"%", "_", "50%", "%折扣", "0%折", "a_b", "_b", `"`, `"hi"`, `y "h`, `\`, `k\s`, "王 五", " 五",
	"1", "13", "138", "0000", "5678", "000111", "zzz",
}

// TestSearchMatchesLike checks that every search box finds exactly what
// LIKE '%q%' finds, for short and long queries, after inserts, bulk
// inserts, renames and deletions.
func TestSearchMatchesLike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		at := searchRoom(t, ctx, db)
		ids := make(map[string]int)
		for _, np := range searchNames {
			r := db.Resident.Create().SetCommunityID(at.CommunityID).SetRoomID(at.RoomID).SetAreaID(at.AreaID).
				SetBuildingID(at.BuildingID).SetUnitID(at.UnitID).SetName(np[0]).SetPhone(np[1]).SetRole("owner").SaveX(ctx)
			ids[np[0]] = r.ID
		}
		bulk1, bulk2 := at, at
		bulk1.Name, bulk1.Phone = "批量张三丰", "18800001111"
		bulk2.Name = "Bulk ALICE"
		err := db.WriteResidents(ctx, func(w store.ResidentWriter) error {
			return w.Insert(ctx, []store.NewResident{bulk1, bulk2})
		})
		if err != nil {
			t.Fatal(err)
		}
		check := func(stage string) {
			t.Helper()
			found := 0
			for _, q := range searchQueries {
				want := db.Resident.Query().Where(resident.Or(resident.NameContains(q), resident.PhoneContains(q))).
					Order(ent.Asc(resident.FieldID)).IDsX(ctx)
				got := db.Resident.Query().Where(store.ResidentSearch.Contains(q)).Order(ent.Asc(resident.FieldID)).IDsX(ctx)
				if !slices.Equal(got, want) {
					t.Errorf("%s: search %q found %v, LIKE finds %v", stage, q, got, want)
				}
				if len([]rune(q)) >= 3 && len(want) > 0 {
					found++
				}
			}
			if found < 10 {
				t.Errorf("%s: only %d queries of three or more characters find anything", stage, found)
			}
		}
		check("inserted")

		db.Resident.UpdateOneID(ids["张三丰"]).SetName("赵六六").ExecX(ctx)
		db.Resident.UpdateOneID(ids["Alice Smith"]).SetPhone("13600005678").ExecX(ctx)
		db.Resident.DeleteOneID(ids["李四"]).ExecX(ctx)
		db.Resident.DeleteOneID(ids["ÄBC"]).ExecX(ctx)
		bulk := db.Resident.Query().Where(resident.Name("批量张三丰")).OnlyIDX(ctx)
		if err := db.WriteResidents(ctx, func(w store.ResidentWriter) error { return w.Rename(ctx, bulk, "批量李四") }); err != nil {
			t.Fatal(err)
		}
		check("changed")
		if n := db.Resident.Query().Where(store.ResidentSearch.Contains("张三丰")).CountX(ctx); n != 0 {
			t.Errorf("renamed residents still found under their old name: %d", n)
		}

		// The other boxes run on their own tables.
		for _, tc := range []struct {
			name  string
			count func(q string) int
		}{
			{"applications", func(q string) int {
				return db.Application.Query().Where(store.ApplicationSearch.Contains(q)).CountX(ctx)
			}},
			{"cards", func(q string) int { return db.Card.Query().Where(store.CardSearch.Contains(q)).CountX(ctx) }},
			{"passes", func(q string) int { return db.Pass.Query().Where(store.PassSearch.Contains(q)).CountX(ctx) }},
		} {
			for _, q := range []string{"a", "abc"} {
				if n := tc.count(q); n != 0 {
					t.Errorf("%s: %q found %d in an empty table", tc.name, q, n)
				}
			}
		}
	})
}

// TestSearchUsesIndex checks the query plan of a three-character query on
// every search box: the FTS5 table on SQLite, the trigram indexes on
// PostgreSQL.
func TestSearchUsesIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		for _, box := range []struct {
			table   string
			columns []string
			search  store.SearchBox
		}{
			{resident.Table, []string{resident.FieldName, resident.FieldPhone}, store.ResidentSearch},
			{application.Table, []string{application.FieldName, application.FieldPhone}, store.ApplicationSearch},
			{card.Table, []string{card.FieldNumber}, store.CardSearch},
			{pass.Table, []string{pass.FieldVisitorName}, store.PassSearch},
		} {
			sel := entsql.Dialect(db.Dialect).Select("id").From(entsql.Table(box.table))
			box.search.Contains("张三丰")(sel)
			query, args := sel.Query()
			tx, err := db.DB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			explain := "EXPLAIN QUERY PLAN "
			want := []string{box.table + "_fts VIRTUAL TABLE INDEX"}
			if db.Dialect != dialect.SQLite {
				// An empty table is scanned whatever its indexes; forbid
				// that to see which index the planner would take.
				if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
					t.Fatal(err)
				}
				explain = "EXPLAIN "
				want = nil
				for _, c := range box.columns {
					want = append(want, fmt.Sprintf("Bitmap Index Scan on %s_%s_trgm", box.table, c))
				}
			}
			rows, err := tx.QueryContext(ctx, explain+query, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				cols, _ := rows.Columns()
				vals := make([]any, len(cols))
				for i := range vals {
					vals[i] = new(any)
				}
				if err := rows.Scan(vals...); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, fmt.Sprint(*vals[len(vals)-1].(*any)))
			}
			_ = tx.Rollback()
			for _, w := range want {
				if !strings.Contains(strings.Join(plan, "\n"), w) {
					t.Errorf("%s: plan of %s\nis\n%s\nwithout %q", box.table, query, strings.Join(plan, "\n"), w)
				}
			}
		}
	})
}

// TestSearchIndexOnReopen checks that opening a database again keeps the
// search indexes, and that on SQLite an index that is missing, or whose
// triggers are (a database from before search was indexed, a table ent
// rebuilt), is created and filled with the rows already there.
func TestSearchIndexOnReopen(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
			url, dir := backend.URL(t), t.TempDir()
			open := func() *store.Store {
				t.Helper()
				db, err := store.Open(ctx, url, dir)
				if err != nil {
					t.Fatal(err)
				}
				if db.SearchUnindexed != nil {
					t.Fatalf("search unindexed: %v", db.SearchUnindexed)
				}
				return db
			}
			db := open()
			at := searchRoom(t, ctx, db)
			add := func(db *store.Store, name string) int {
				t.Helper()
				return db.Resident.Create().SetCommunityID(at.CommunityID).SetRoomID(at.RoomID).SetAreaID(at.AreaID).
					SetBuildingID(at.BuildingID).SetUnitID(at.UnitID).SetName(name).SetPhone("").SetRole("owner").SaveX(ctx).ID
			}
			first := add(db, "张三丰")
			if db.Dialect == dialect.SQLite {
				for _, stmt := range []string{"DROP TABLE residents_fts", "DROP TRIGGER residents_fts_insert",
					"DROP TRIGGER residents_fts_update", "DROP TRIGGER residents_fts_delete"} {
					if _, err := db.DB.ExecContext(ctx, stmt); err != nil {
						t.Fatal(err)
					}
				}
			}
			second := add(db, "张三丰二")
			db.Close()
			for round := range 2 {
				db = open()
				got := db.Resident.Query().Where(store.ResidentSearch.Contains("张三丰")).Order(ent.Asc(resident.FieldID)).IDsX(ctx)
				if !slices.Equal(got, []int{first, second}) {
					t.Errorf("reopened %d: found %v, want %v", round+1, got, []int{first, second})
				}
				db.Close()
			}
		})
	}
}

// searchRoom makes a community with one room and returns a resident of
// that room without a name.
func searchRoom(tb testing.TB, ctx context.Context, db *store.Store) store.NewResident {
	tb.Helper()
	name, code, addr := "搜索小区", "440306", "x"
	c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
	if err != nil {
		tb.Fatal(err)
	}
	hs := housing.NewService(db, device.NewService(db, nil, nil, slog.New(slog.DiscardHandler)))
	one, two := 1, 2
	a, err := hs.CreateArea(ctx, c.ID, housing.AreaInput{Number: &one})
	if err != nil {
		tb.Fatal(err)
	}
	b, err := hs.CreateBuilding(ctx, c.ID, housing.BuildingInput{AreaID: a.ID, Number: &one})
	if err != nil {
		tb.Fatal(err)
	}
	u, err := hs.CreateUnit(ctx, c.ID, housing.UnitInput{BuildingID: b.ID, Number: &one, DeviceCount: &two})
	if err != nil {
		tb.Fatal(err)
	}
	r, err := hs.CreateRoom(ctx, c.ID, housing.RoomInput{UnitID: u.ID, Floor: &one, Number: &two})
	if err != nil {
		tb.Fatal(err)
	}
	return store.NewResident{CommunityID: c.ID, RoomID: r.ID, AreaID: a.ID, BuildingID: b.ID, UnitID: u.ID, Role: "owner"}
}

// TestSearchWithoutTrigramRights checks that a PostgreSQL user who may not
// create pg_trgm still opens the store, is told why search scans, and finds
// the same rows.
func TestSearchWithoutTrigramRights(t *testing.T) {
	base := os.Getenv("TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("TEST_POSTGRES_URL not set")
	}
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	role := "linli_test_" + hex.EncodeToString(suffix)
	// Registered first, the role is dropped last: after the database that
	// holds its grants and tables.
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP ROLE IF EXISTS " + role); err != nil {
			t.Errorf("drop role: %v", err)
		}
	})
	dbURL := storetest.FreshPostgres(t, base)
	admin, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// The role may create tables in the schema, not extensions in the database.
	for _, stmt := range []string{"CREATE ROLE " + role + " LOGIN", "GRANT CREATE ON SCHEMA public TO " + role} {
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	db, err := store.Open(ctx, u.String(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.SearchUnindexed == nil || !strings.Contains(db.SearchUnindexed.Error(), "pg_trgm") {
		t.Fatalf("SearchUnindexed = %v, want why pg_trgm is missing", db.SearchUnindexed)
	}
	at := searchRoom(t, ctx, db)
	id := db.Resident.Create().SetCommunityID(at.CommunityID).SetRoomID(at.RoomID).SetAreaID(at.AreaID).
		SetBuildingID(at.BuildingID).SetUnitID(at.UnitID).SetName("张三丰").SetPhone("13800001111").SetRole("owner").SaveX(ctx).ID
	for _, q := range []string{"张", "三丰", "张三丰", "0000111"} {
		if got := db.Resident.Query().Where(store.ResidentSearch.Contains(q)).IDsX(ctx); !slices.Equal(got, []int{id}) {
			t.Errorf("search %q found %v, want [%d]", q, got, id)
		}
	}
}
