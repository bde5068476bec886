package roster

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"

	"linli/internal/ent"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/housing"
	residentpkg "linli/internal/resident"
	"linli/internal/store"
	"linli/internal/xlsx"
)

// WriteTemplate writes the workbook of community cid: one sheet per unit in
// the manual's layout, empty (导出模板) or filled with the current residents
// (导出业主, filled true) so that it can be edited and imported again.
func (s *Service) WriteTemplate(ctx context.Context, cid int, filled bool, w io.Writer) error {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return err
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

	sw := xlsx.NewWriter(w)
	if len(units) == 0 {
		if err := sw.Sheet("说明", 80); err != nil {
			return err
		}
		sw.Add(xlsx.Cell{V: "本小区还没有单元：请先在“房屋信息列表”中添加区域、楼栋和单元，再导出模板。"})
		return sw.Close()
	}
	for i, u := range sheetNames(units) {
		unit := units[i]
		if err := sw.Sheet(u, 10, 16, 16, 0, 60); err != nil {
			return err
		}
		rows := [][]xlsx.Cell{
			{{V: unit.Title, Style: xlsx.Bold}},
			{{V: strconv.Itoa(unit.ID), Style: xlsx.Text}},
			{{V: headers[0], Style: xlsx.Bold}, {V: headers[1], Style: xlsx.Bold}, {V: headers[2], Style: xlsx.Bold}},
		}
		rs := byUnit[unit.ID]
		slices.SortStableFunc(rs, func(a, b *ent.Resident) int { return strings.Compare(rooms[a.RoomID], rooms[b.RoomID]) })
		for _, r := range rs {
			ph := r.Phone
			if ph == "" {
				ph = NoPhone
			}
			rows = append(rows, []xlsx.Cell{{V: rooms[r.RoomID], Style: xlsx.Text}, {V: Escape(r.Name), Style: xlsx.Text}, {V: Escape(ph), Style: xlsx.Text}})
		}
		for j := 0; j < max(len(rows), len(instructions)); j++ {
			row := make([]xlsx.Cell, 5)
			if j < len(rows) {
				copy(row, rows[j])
			}
			if j < len(instructions) { // column E, beside the data, never in it
				row[4] = xlsx.Cell{V: instructions[j], Style: xlsx.Hint}
			}
			sw.Add(row...)
		}
	}
	return sw.Close()
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
	c, err := store.Community(ctx, s.db.Client, cid)
	if err != nil {
		return err
	}
	sw := xlsx.NewWriter(w)
	if err := sw.Sheet("业主列表", 36, 12, 6, 22, 14, 22, 10, 22, 30, 9, 9, 9, 20); err != nil {
		return err
	}
	head := make([]xlsx.Cell, len(fullHeaders))
	for i, h := range fullHeaders {
		head[i] = xlsx.Cell{V: h, Style: xlsx.Bold}
	}
	sw.Add(head...)
	gender := map[string]string{"male": "男", "female": "女", "unknown": ""}
	onOff := map[bool]string{true: "开", false: "关"}
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
			values := []string{Escape(v.RoomLabel), Escape(v.Name), gender[v.Gender], v.IDNumberMasked, Escape(v.Phone),
				v.HometownName, Escape(v.Role), Escape(v.Email), Escape(v.Address), onOff[v.AppCall], onOff[v.CallForward], face,
				v.UpdatedAt.Local().Format("2006-01-02 15:04:05")}
			cells := make([]xlsx.Cell, len(values))
			for i, x := range values {
				cells[i] = xlsx.Cell{V: x, Style: xlsx.Text}
			}
			sw.Add(cells...)
		}
		if len(rs) < batch {
			break
		}
	}
	return sw.Close()
}
