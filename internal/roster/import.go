package roster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"linli/internal/ent"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/ent/unit"
	"linli/internal/errs"
	"linli/internal/housing"
	"linli/internal/phone"
	"linli/internal/store"
	"linli/internal/validate"
	"linli/internal/xlsx"
)

// Limits of an import. The upload itself is bounded by the HTTP layer.
const (
	MaxFileBytes      = 10 << 20  // the .xlsx file
	MaxUnzippedBytes  = 200 << 20 // everything inside it, uncompressed
	MaxSheetXMLBytes  = 100 << 20 // one worksheet's XML held in memory
	MaxRows           = 200_000   // data rows in all sheets
	MaxListedProblems = 1000      // bad rows listed in one answer
)

// Result counts what an import did.
type Result struct {
	Created   int `json:"created" doc:"新增的业主"`
	Updated   int `json:"updated" doc:"更新的业主（同一房间同一手机号，姓名有变）"`
	Unchanged int `json:"unchanged" doc:"已存在且未变的业主"`
}

// problem is one bad cell or row.
type problem struct {
	sheet string
	row   int
	col   string // A, B, C or "" for the whole row/sheet
	msg   string
}

func (p problem) field() errs.FieldError {
	where := fmt.Sprintf("工作表“%s”第 %d 行", p.sheet, p.row)
	loc := fmt.Sprintf("file:%s!%s%d", p.sheet, p.col, p.row)
	if p.col != "" {
		where += "（" + map[string]string{"A": "房号", "B": "姓名", "C": "手机号码"}[p.col] + "）"
	}
	return errs.FieldError{Field: "file", Location: loc, Message: where + "：" + p.msg}
}

// row is one good data row.
type row struct {
	sheet  string
	line   int
	unit   int
	roomID int
	name   string
	phone  string
}

// Import reads a filled workbook and adds or updates the residents in it,
// all or nothing. Rows are matched to existing residents by room and phone
// (or room and name when there is no phone), so importing a file twice
// creates nothing the second time. New residents get the community's first
// role (业主).
//
// Errors: errs.Invalid listing every bad row (sheet, row, column, reason), or
// the reason the file as a whole is refused.
func (s *Service) Import(ctx context.Context, cid int, data []byte) (Result, error) {
	if s.importTook != nil {
		defer func(start time.Time) { s.importTook(time.Since(start)) }(time.Now())
	}
	var res Result
	c, err := store.Community(ctx, s.db.Client, cid)
	if err != nil {
		return res, err
	}
	switch {
	case len(data) == MaxFileBytes+1:
		// Cut off there by the reader (api.go): not the file's size.
		return res, errs.Fieldf("file", "文件太大（最大 %d MB）", MaxFileBytes>>20)
	case len(data) > MaxFileBytes:
		return res, errs.Fieldf("file", "文件太大：%.1f MB，最大 %d MB", float64(len(data))/1e6, MaxFileBytes>>20)
	}
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return res, errs.Field("file", "文件不是 Excel 工作簿（.xlsx）：请用“导出模板”或“导出业主”得到的文件填写后导入")
	}
	f, err := xlsx.Open(data, xlsx.Limits{Unzipped: MaxUnzippedBytes, SheetXML: MaxSheetXMLBytes})
	if err != nil {
		if errors.Is(err, xlsx.ErrTooLarge) {
			return res, errs.Fieldf("file", "文件解压后超过 %d MB，已拒绝（可能是损坏或恶意构造的文件）", MaxUnzippedBytes>>20)
		}
		return res, errs.Field("file", "无法读取该 Excel 文件，请确认是 .xlsx 格式且没有损坏")
	}
	defer f.Close()

	idx, err := s.housingIndex(ctx, cid)
	if err != nil {
		return res, err
	}
	// The whole file is read and checked before anything is written, so that
	// the database's write lock is held only for the writing, and nothing is
	// stored unless every row is good.
	var (
		problems     []problem
		problemCount int
		rows         []row
		total        int
		seen         = map[string]row{}
	)
	var add func(problem)
	send := func(r row) {
		k := keyOf(r.roomID, r.name, r.phone)
		if first, dup := seen[k]; dup {
			add(problem{r.sheet, r.line, "", fmt.Sprintf("与工作表“%s”第 %d 行重复（同一房间、同一业主）", first.sheet, first.line)})
			return
		}
		seen[k] = r
		if len(problems) > 0 {
			return // the import fails anyway; keep reading only to list every problem
		}
		rows = append(rows, r)
	}
	add = func(p problem) {
		problemCount++
		if len(problems) < MaxListedProblems {
			problems = append(problems, p)
		}
	}
	for _, sheet := range f.Sheets() {
		it, err := f.Rows(sheet)
		if err != nil {
			if errors.Is(err, xlsx.ErrTooLarge) {
				return res, errs.Fieldf("file", "工作表“%s”解压后过大，已拒绝", sheet)
			}
			add(problem{sheet: sheet, row: 1, msg: "无法读取该工作表"})
			continue
		}
		unitID, line := 0, 0
		for it.Next() {
			if err := ctx.Err(); err != nil {
				_ = it.Close()
				return res, err
			}
			line++
			cells, err := it.Columns()
			if err != nil {
				add(problem{sheet: sheet, row: line, msg: "无法读取该行"})
				continue
			}
			get := func(i int) string {
				if i < len(cells) {
					return strings.TrimSpace(Unescape(strings.TrimSpace(cells[i])))
				}
				return ""
			}
			switch {
			case line < rowUnitID:
				continue
			case line == rowUnitID:
				unitID, err = strconv.Atoi(get(0))
				if _, ok := idx.units[unitID]; err != nil || !ok {
					add(problem{sheet: sheet, row: line, col: "A", msg: fmt.Sprintf("单元编号“%s”不属于本小区：请使用本小区导出的模板，不要修改第 1、2 行", get(0))})
					unitID = -1
				}
				continue
			case line == rowHeader || unitID <= 0:
				continue
			}
			roomNo, name, ph := get(0), get(1), get(2)
			if roomNo == "" && name == "" && ph == "" {
				continue
			}
			total++
			if total > MaxRows {
				_ = it.Close()
				return res, errs.Fieldf("file", "一次最多导入 %d 行，请分批导入", MaxRows)
			}
			r := row{sheet: sheet, line: line, unit: unitID, name: name}
			bad := false
			floor, number, perr := housing.ParseRoomNo(roomNo)
			if perr != nil {
				add(problem{sheet, line, "A", perr.Error()})
				bad = true
			} else if r.roomID = idx.rooms[roomKey{unitID, floor, number}]; r.roomID == 0 {
				add(problem{sheet, line, "A", fmt.Sprintf("房号 %s 在该单元不存在，请先在房屋信息列表中添加", housing.RoomNo(floor, number))})
				bad = true
			}
			switch n := utf8.RuneCountInString(name); {
			case n == 0:
				add(problem{sheet, line, "B", "姓名不能为空"})
				bad = true
			case n > 32:
				add(problem{sheet, line, "B", "姓名不能超过 32 个字符"})
				bad = true
			default:
				var e *errs.Error
				if errors.As(validate.Visible("name", "姓名", name), &e) {
					add(problem{sheet, line, "B", e.Message})
					bad = true
				}
			}
			if ph != "" && !strings.EqualFold(ph, NoPhone) {
				if r.phone, perr = phone.Parse(ph); perr != nil {
					add(problem{sheet, line, "C", perr.Error() + "；没有手机号请填 NULL"})
					bad = true
				}
			}
			if !bad {
				send(r)
			}
		}
		if it.Err() != nil {
			add(problem{sheet: sheet, row: line + 1, msg: "无法读取该行"})
		}
		_ = it.Close()
	}
	if len(problems) > 0 {
		e := &errs.Error{Code: errs.Invalid, Message: fmt.Sprintf("导入失败：%d 处错误，没有写入任何数据。请改正后重新导入。", problemCount)}
		for _, p := range problems {
			e.Fields = append(e.Fields, p.field())
		}
		return res, e
	}
	res, err = s.write(ctx, c, idx, rows)
	if err != nil {
		return Result{}, err
	}
	s.logger.InfoContext(ctx, "residents imported", "community", c.ID, "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged)
	return res, nil
}

// keyOf identifies a resident within a room: by phone when there is one,
// otherwise by name.
func keyOf(roomID int, name, ph string) string {
	if ph != "" {
		return fmt.Sprintf("%d|p|%s", roomID, ph)
	}
	return fmt.Sprintf("%d|n|%s", roomID, name)
}

type roomKey struct{ unit, floor, number int }

// index is what an import needs to know of a community's housing.
type index struct {
	rooms map[roomKey]int  // (unit, floor, number) → room id
	units map[int]roomPath // unit id → the unit with its building and area
}

type roomPath struct{ area, building, unit int }

// housingIndex reads the units and rooms of community cid once.
func (s *Service) housingIndex(ctx context.Context, cid int) (*index, error) {
	us, err := s.db.Unit.Query().Where(unit.CommunityID(cid)).WithBuilding().All(ctx)
	if err != nil {
		return nil, err
	}
	idx := &index{units: make(map[int]roomPath, len(us))}
	for _, u := range us {
		idx.units[u.ID] = roomPath{area: u.Edges.Building.AreaID, building: u.BuildingID, unit: u.ID}
	}
	rs, err := s.db.Room.Query().Where(room.CommunityID(cid)).
		Select(room.FieldID, room.FieldUnitID, room.FieldFloor, room.FieldNumber).All(ctx)
	if err != nil {
		return nil, err
	}
	idx.rooms = make(map[roomKey]int, len(rs))
	for _, r := range rs {
		idx.rooms[roomKey{r.UnitID, r.Floor, r.Number}] = r.ID
	}
	return idx, nil
}

// write adds and renames the residents of rows in one transaction, in
// batches of insertBatch.
func (s *Service) write(ctx context.Context, c *ent.Community, idx *index, rows []row) (Result, error) {
	existing, err := s.db.Resident.Query().Where(resident.CommunityID(c.ID)).
		Select(resident.FieldID, resident.FieldRoomID, resident.FieldName, resident.FieldPhone).All(ctx)
	if err != nil {
		return Result{}, err
	}
	byKey := make(map[string]*ent.Resident, len(existing))
	for _, r := range existing {
		byKey[keyOf(r.RoomID, r.Name, r.Phone)] = r
	}
	role := "业主"
	if len(c.ResidentRoles) > 0 {
		role = c.ResidentRoles[0]
	}
	var w writer
	err = s.db.WriteResidents(ctx, func(rw store.ResidentWriter) error {
		for batch := range slices.Chunk(rows, insertBatch) {
			if err := w.write(ctx, rw, c.ID, role, batch, byKey, idx.units); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if isBusy(err) {
			return Result{}, &errs.Error{Code: errs.Unavailable, Message: "数据库正忙，没有写入任何数据，请稍后重新导入", Err: err}
		}
		return Result{}, store.Map(err, "业主")
	}
	return w.res, nil
}

// isBusy reports whether err says the database could not be written now
// (another writer held it too long).
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

// writer counts what writing rows did.
type writer struct{ res Result }

func (w *writer) write(ctx context.Context, rw store.ResidentWriter, cid int, role string, rows []row, byKey map[string]*ent.Resident, units map[int]roomPath) error {
	creates := make([]store.NewResident, 0, len(rows))
	for _, r := range rows {
		if old, ok := byKey[keyOf(r.roomID, r.name, r.phone)]; ok {
			if old.Name == r.name {
				w.res.Unchanged++
				continue
			}
			if err := rw.Rename(ctx, old.ID, r.name); err != nil {
				return err
			}
			w.res.Updated++
			continue
		}
		p := units[r.unit]
		creates = append(creates, store.NewResident{CommunityID: cid, RoomID: r.roomID, AreaID: p.area,
			BuildingID: p.building, UnitID: p.unit, Name: r.name, Phone: r.phone, Role: role})
	}
	if len(creates) == 0 {
		return nil
	}
	w.res.Created += len(creates)
	return rw.Insert(ctx, creates)
}

// insertBatch rows go into one INSERT (about 22 columns each: below SQLite's and
// PostgreSQL's limits on statement parameters).
const insertBatch = 1000
