package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"linli/internal/ent"
	"linli/internal/ent/resident"
)

// NewResident is a resident written in bulk by an import.
type NewResident struct {
	CommunityID, RoomID, AreaID, BuildingID, UnitID int
	Name, Phone, Role                               string
}

// ResidentWriter writes residents in bulk inside one transaction.
type ResidentWriter interface {
	Insert(ctx context.Context, rows []NewResident) error
	Rename(ctx context.Context, id int, name string) error
}

// WriteResidents runs fn with a ResidentWriter in one transaction, committed
// when fn returns nil and rolled back otherwise. On PostgreSQL inserts use
// COPY; on SQLite multi-row INSERTs. After the commit the planner's
// statistics are refreshed. Callers have already checked that the actor may
// write to the community (the writer bypasses ent's hooks).
func (s *Store) WriteResidents(ctx context.Context, fn func(ResidentWriter) error) error {
	var err error
	if s.Dialect == dialectPostgres {
		err = s.copyResidents(ctx, fn)
	} else {
		err = s.InTx(ctx, func(tx *ent.Tx) error { return fn(entResidentWriter{tx}) })
	}
	if err != nil {
		return err
	}
	s.analyze(ctx, resident.Table)
	return nil
}

type entResidentWriter struct{ tx *ent.Tx }

func (w entResidentWriter) Insert(ctx context.Context, rows []NewResident) error {
	creates := make([]*ent.ResidentCreate, len(rows))
	for i, r := range rows {
		creates[i] = w.tx.Resident.Create().SetCommunityID(r.CommunityID).SetRoomID(r.RoomID).
			SetAreaID(r.AreaID).SetBuildingID(r.BuildingID).SetUnitID(r.UnitID).
			SetName(r.Name).SetPhone(r.Phone).SetRole(r.Role).SetOrigin("import")
	}
	return w.tx.Resident.CreateBulk(creates...).Exec(ctx)
}

func (w entResidentWriter) Rename(ctx context.Context, id int, name string) error {
	return w.tx.Resident.UpdateOneID(id).SetName(name).SetUpdatedAt(time.Now()).Exec(ctx)
}

// copyResidents runs fn on one PostgreSQL connection in a pgx transaction.
func (s *Store) copyResidents(ctx context.Context, fn func(ResidentWriter) error) error {
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: unexpected PostgreSQL driver connection %T", driverConn)
		}
		tx, err := c.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		if err := fn(pgResidentWriter{tx}); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		return tx.Commit(ctx)
	})
}

type pgResidentWriter struct{ tx pgx.Tx }

var residentCopyColumns = []string{
	"created_at", "updated_at", "community_id", "room_id", "area_id", "building_id", "unit_id",
	"name", "phone", "gender", "role", "id_number_masked", "email", "hometown_code", "address",
	"app_call", "call_forward", "face_photo", "face_enabled", "origin",
}

func (w pgResidentWriter) Insert(ctx context.Context, rows []NewResident) error {
	now := time.Now()
	_, err := w.tx.CopyFrom(ctx, pgx.Identifier{"residents"}, residentCopyColumns,
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			return []any{now, now, r.CommunityID, r.RoomID, r.AreaID, r.BuildingID, r.UnitID,
				r.Name, r.Phone, "unknown", r.Role, "", "", "", "", true, false, "", false, "import"}, nil
		}))
	return err
}

func (w pgResidentWriter) Rename(ctx context.Context, id int, name string) error {
	_, err := w.tx.Exec(ctx, "UPDATE residents SET name = $1, updated_at = $2 WHERE id = $3", name, time.Now(), id)
	return err
}
