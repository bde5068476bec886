// Package roster reads and writes the residents' workbook (业主表格) exactly as
// the product manual describes it: one sheet per unit, row 1 the unit's name
// (1区-1栋-1单元), row 2 the unit's id, row 3 the headers 房号, 姓名, 手机号码,
// residents from row 4. A filled template or an export can be edited in any
// spreadsheet program and imported again; an import is all or nothing.
package roster

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"linli/internal/ent/unit"
	"linli/internal/housing"
	residentpkg "linli/internal/resident"
	"linli/internal/store"
	"linli/internal/xlsx"
)

// Layout of a unit sheet.
const (
	rowUnitName = 1
	rowUnitID   = 2
	rowHeader   = 3
	firstRow    = 4
)

// Headers of the data columns.
var headers = []string{"房号", "姓名", "手机号码"}

// NoPhone is what the manual tells people to write when a resident has no
// mobile number.
const NoPhone = "NULL"

// instructions are written beside the data of every unit sheet.
var instructions = []string{
	"填写说明：",
	"① 房号：如 101 或 0101（楼层 + 两位房间号）。",
	"② 姓名：房间内的业主，如 张三。",
	"③ 手机号码：业主 APP 的账号；没有手机号填 NULL。",
	"④ 第 1、2 行是本单元的名称和编号，请核实单元后再填写，不要修改。",
	"除了房号、姓名、手机号码外的其他信息请不要随意修改，会影响导入。",
}

// Service builds and imports workbooks.
type Service struct {
	db        *store.Store
	residents *residentpkg.Service
	logger    *slog.Logger
	// importTook, if set, is told how long each import took.
	importTook func(time.Duration)
}

// An Option changes a Service as it is made.
type Option func(*Service)

// WithImportTimer makes the Service tell took how long each workbook
// import took, whatever its outcome, for the server's metrics.
func WithImportTimer(took func(time.Duration)) Option {
	return func(s *Service) { s.importTook = took }
}

// NewService returns a Service that imports residents through residents.
func NewService(db *store.Store, residents *residentpkg.Service, logger *slog.Logger, opts ...Option) *Service {
	s := &Service{db: db, residents: residents, logger: logger}
	for _, o := range opts {
		o(s)
	}
	return s
}

// unitInfo is a unit with the names that make its sheet title.
type unitInfo struct {
	ID    int
	Title string // 1区-1栋-1单元
}

// units returns the units of community cid in tree order.
func (s *Service) units(ctx context.Context, cid int) ([]unitInfo, error) {
	q := s.db.Unit.Query().Where(unit.CommunityID(cid))
	housing.WithUnitPath(q)
	us, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(us, housing.CompareUnits)
	out := make([]unitInfo, len(us))
	for i, u := range us {
		b := u.Edges.Building
		out[i] = unitInfo{ID: u.ID, Title: b.Edges.Area.Name + "-" + b.Name + "-" + u.Name}
	}
	return out, nil
}

// sheetNames gives each unit a valid, unique sheet name (at most 31
// characters, none of : \ / ? * [ ]).
func sheetNames(units []unitInfo) []string {
	used := map[string]bool{}
	names := make([]string, len(units))
	for i, u := range units {
		base := strings.Map(func(r rune) rune {
			if strings.ContainsRune(`:\/?*[]`, r) {
				return '_'
			}
			return r
		}, u.Title)
		name := truncateRunes(base, 31)
		for n := 2; used[name]; n++ {
			suffix := fmt.Sprintf("(%d)", n)
			name = truncateRunes(base, 31-len([]rune(suffix))) + suffix
		}
		used[name] = true
		names[i] = name
	}
	return names
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// Escape makes a text cell safe to open in a spreadsheet program (see
// xlsx.Escape); Unescape undoes it on import.
func Escape(s string) string { return xlsx.Escape(s) }

// Unescape removes the apostrophe Escape added.
func Unescape(s string) string { return xlsx.Unescape(s) }
