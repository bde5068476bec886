package roster

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"linli/internal/ent"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/housing"
	residentpkg "linli/internal/resident"
	"linli/internal/store"
)

// WriteTemplate writes the workbook of community cid: one sheet per unit in
// the manual's layout, empty (导出模板) or filled with the current residents
// (导出业主, filled true) so that it can be edited and imported again.
func (s *Service) WriteTemplate(ctx context.Context, cid int, filled bool, w io.Writer) error {
	if _, err := s.db.Community.Get(ctx, cid); err != nil {
		return store.Map(err, "小区")
	}
	units, err := s.units(ctx, cid)
	if err != nil {
		return err
	}
	byUnit := map[int][]*ent.Resident{}
	if filled {
		rs, err := s.db.Resident.Query().Where(resident.CommunityID(cid)).
			Select(resident.FieldUnitID, resident.FieldRoomID, resident.FieldName, resident.FieldPhone).All(ctx)
		if err != nil {
			return err
		}
		for _, r := range rs {
			byUnit[r.UnitID] = append(byUnit[r.UnitID], r)
		}
	}
	rooms, err := s.roomNumbers(ctx, cid)
	if err != nil {
		return err
	}

	f := excelize.NewFile()
	defer f.Close()
	if len(units) == 0 {
		_ = f.SetCellStr("Sheet1", "A1", "本小区还没有单元：请先在“房屋信息列表”中添加区域、楼栋和单元，再导出模板。")
		return f.Write(w)
	}
	names := sheetNames(units)
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	hint, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "888888"}})
	text, _ := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": keep 0101 and phone numbers as text
	for i, u := range units {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", names[0]); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(names[i]); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(names[i])
		if err != nil {
			return err
		}
		_ = sw.SetColWidth(1, 1, 10)
		_ = sw.SetColWidth(2, 2, 16)
		_ = sw.SetColWidth(3, 3, 16)
		_ = sw.SetColWidth(5, 5, 60)
		rowsOut := [][]any{
			{excelize.Cell{StyleID: bold, Value: u.Title}, nil, nil},
			{excelize.Cell{StyleID: text, Value: strconv.Itoa(u.ID)}, nil, nil},
			{excelize.Cell{StyleID: bold, Value: headers[0]}, excelize.Cell{StyleID: bold, Value: headers[1]}, excelize.Cell{StyleID: bold, Value: headers[2]}},
		}
		rs := byUnit[u.ID]
		sortBy(rs, func(a, b *ent.Resident) bool { return rooms[a.RoomID] < rooms[b.RoomID] })
		for _, r := range rs {
			ph := r.Phone
			if ph == "" {
				ph = NoPhone
			}
			rowsOut = append(rowsOut, []any{
				excelize.Cell{StyleID: text, Value: rooms[r.RoomID]},
				excelize.Cell{StyleID: text, Value: Escape(r.Name)},
				excelize.Cell{StyleID: text, Value: Escape(ph)},
			})
		}
		for j := 0; j < max(len(rowsOut), len(instructions)); j++ {
			row := []any{nil, nil, nil}
			if j < len(rowsOut) {
				row = rowsOut[j]
			}
			if j < len(instructions) { // column E, beside the data
				row = append(row, nil, excelize.Cell{StyleID: hint, Value: instructions[j]})
			}
			cell, _ := excelize.CoordinatesToCellName(1, j+1)
			if err := sw.SetRow(cell, row); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

// roomNumbers maps the room ids of community cid to their room numbers (0502).
func (s *Service) roomNumbers(ctx context.Context, cid int) (map[int]string, error) {
	rs, err := s.db.Room.Query().Where(room.CommunityID(cid)).
		Select(room.FieldID, room.FieldFloor, room.FieldNumber).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int]string, len(rs))
	for _, r := range rs {
		out[r.ID] = housing.RoomNo(r.Floor, r.Number)
	}
	return out, nil
}

// fullHeaders are the columns of the full export, as the resident list.
var fullHeaders = []string{"房间信息", "姓名", "性别", "身份证号", "手机号码", "籍贯", "业主类型", "邮箱", "详细地址", "APP呼叫", "电话转移", "人脸权限", "更新时间"}

// WriteFull writes every resident that matches f with all list columns, for
// reading (ID numbers stay masked). Text is escaped against formulas.
func (s *Service) WriteFull(ctx context.Context, cid int, rsvc *residentpkg.Service, filter residentpkg.Filter, w io.Writer) error {
	c, err := s.db.Community.Get(ctx, cid)
	if err != nil {
		return store.Map(err, "小区")
	}
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "业主列表"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	_ = sw.SetColWidth(1, 1, 36)
	_ = sw.SetColWidth(4, 6, 22)
	head := make([]any, len(fullHeaders))
	for i, h := range fullHeaders {
		head[i] = h
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	gender := map[string]string{"male": "男", "female": "女", "unknown": ""}
	yes := map[bool]string{true: "开", false: "关"}
	row := 2
	const batch = 1000
	for offset := 0; ; offset += batch {
		rs, _, err := rsvc.List(ctx, cid, filter, offset, batch)
		if err != nil {
			return err
		}
		for _, r := range rs {
			v := residentpkg.View(c.Name, r)
			face := "未上传"
			if v.Face.HasPhoto {
				face = map[bool]string{true: "启用", false: "停用"}[v.Face.Enabled]
			}
			cells := []any{Escape(v.RoomLabel), Escape(v.Name), gender[v.Gender], v.IDNumberMasked, Escape(v.Phone),
				v.HometownName, Escape(v.Role), Escape(v.Email), Escape(v.Address), yes[v.AppCall], yes[v.CallForward], face,
				v.UpdatedAt.Local().Format("2006-01-02 15:04:05")}
			if err := sw.SetRow(fmt.Sprintf("A%d", row), cells); err != nil {
				return err
			}
			row++
		}
		if len(rs) < batch {
			break
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}
