package app_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"linli/internal/apptest"
	"linli/internal/storetest"
)

type importProblem struct {
	Detail string `json:"detail"`
	Errors []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
	} `json:"errors"`
}

func importFile(c *apptest.Client, a *apptest.Community, name string, data []byte) apptest.Response {
	ct, body := multipartBody(name, data, nil)
	return c.DoType("POST", a.Path("/residents/import"), ct, body)
}

func residentCount(t *testing.T, c *apptest.Client, a *apptest.Community) int {
	t.Helper()
	var l residentList
	c.Must(200, "GET", a.Path("/residents?size=1"), nil).JSON(t, &l)
	return l.Total
}

// fillTemplate downloads the template and writes rows into the sheet of the
// fixture's unit, as a person would in a spreadsheet program.
func fillTemplate(t *testing.T, c *apptest.Client, a *apptest.Community, rows [][]string) []byte {
	t.Helper()
	tpl := c.Must(200, "GET", a.Path("/residents/template.xlsx"), nil)
	f, err := excelize.OpenReader(bytes.NewReader(tpl.Body))
	if err != nil {
		t.Fatal(err)
	}
	sheet := f.GetSheetList()[0]
	for i, r := range rows {
		for j, v := range r {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+4)
			_ = f.SetCellStr(sheet, cell, v)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestResidentWorkbook(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "表格小区", "WB")
		m := a.Manager
		// 1栋1单元 gets 50 floors × 20 rooms so that 1,000 rows fit.
		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/rooms/%d", a.RoomID)), nil)
		m.Must(201, "POST", a.Path(fmt.Sprintf("/units/%d/rooms/batch", a.UnitID)), map[string]any{"floors": 50, "rooms_per_floor": 20})

		// The template follows the manual: unit name, unit id, headers.
		tpl := m.Must(200, "GET", a.Path("/residents/template.xlsx"), nil)
		if ct := tpl.Header.Get("Content-Type"); !strings.Contains(ct, "spreadsheetml") || !strings.Contains(tpl.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("template answer headers: %v", tpl.Header)
		}
		f, err := excelize.OpenReader(bytes.NewReader(tpl.Body))
		if err != nil {
			t.Fatal(err)
		}
		sheet := f.GetSheetList()[0]
		a1, _ := f.GetCellValue(sheet, "A1")
		a2, _ := f.GetCellValue(sheet, "A2")
		hdr, _ := f.GetRows(sheet)
		if sheet != "1区-1栋-1单元" || a1 != "1区-1栋-1单元" || a2 != fmt.Sprint(a.UnitID) || strings.Join(hdr[2][:3], ",") != "房号,姓名,手机号码" {
			t.Fatalf("template layout: sheet %q A1 %q A2 %q row3 %v", sheet, a1, a2, hdr[2])
		}

		// 1,000 rows with one bad phone at row 537: nothing is written, row 537 is named.
		rows := make([][]string, 1000)
		for i := range rows {
			floor, num := i/20+1, i%20+1
			rows[i] = []string{fmt.Sprintf("%d%02d", floor, num), fmt.Sprintf("业主%04d", i), fmt.Sprintf("139%08d", i)}
		}
		rows[537-4][2] = "12345"
		res := importFile(m, a, "业主.xlsx", fillTemplate(t, m, a, rows))
		var p importProblem
		res.JSON(t, &p)
		if res.Status != 422 || len(p.Errors) != 1 || !strings.Contains(p.Errors[0].Message, "第 537 行") ||
			!strings.Contains(p.Errors[0].Message, "手机号码") || p.Errors[0].Location != "file:1区-1栋-1单元!C537" {
			t.Fatalf("bad row 537: %d %+v", res.Status, p)
		}
		if n := residentCount(t, m, a); n != 0 {
			t.Fatalf("a refused import wrote %d residents", n)
		}

		// Fixed, it imports every row; importing it again changes nothing.
		rows[537-4][2] = "NULL"
		file := fillTemplate(t, m, a, rows)
		var result struct{ Created, Updated, Unchanged int }
		r := importFile(m, a, "业主.xlsx", file)
		if r.Status != 200 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &result)
		if result.Created != 1000 || residentCount(t, m, a) != 1000 {
			t.Fatalf("first import: %+v, %d residents", result, residentCount(t, m, a))
		}
		r = importFile(m, a, "业主.xlsx", file)
		r.JSON(t, &result)
		if r.Status != 200 || result.Created != 0 || result.Unchanged != 1000 || residentCount(t, m, a) != 1000 {
			t.Fatalf("second import: %d %+v, %d residents", r.Status, result, residentCount(t, m, a))
		}

		// The export has the same layout and round-trips; a changed name is an update.
		exp := m.Must(200, "GET", a.Path("/residents/export.xlsx"), nil)
		ef, err := excelize.OpenReader(bytes.NewReader(exp.Body))
		if err != nil {
			t.Fatal(err)
		}
		erows, _ := ef.GetRows(ef.GetSheetList()[0])
		if len(erows) != 1003 || erows[3][0] != "0101" || erows[3][1] != "业主0000" || erows[3][2] != "13900000000" {
			t.Fatalf("export: %d rows, first %v", len(erows), erows[3])
		}
		_ = ef.SetCellStr(ef.GetSheetList()[0], "B4", "改名")
		var edited bytes.Buffer
		_ = ef.Write(&edited)
		importFile(m, a, "export.xlsx", edited.Bytes()).JSON(t, &result)
		if result.Updated != 1 || result.Unchanged != 999 || result.Created != 0 {
			t.Fatalf("re-import of an edited export: %+v", result)
		}

		// Formula-looking text is escaped in exports.
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": firstRoom(t, m, a), "name": "=HYPERLINK(\"http://x\")", "role": "业主"})
		full := m.Must(200, "GET", a.Path("/residents/export-full.xlsx?q=HYPERLINK"), nil)
		ff, err := excelize.OpenReader(bytes.NewReader(full.Body))
		if err != nil {
			t.Fatal(err)
		}
		frows, _ := ff.GetRows("业主列表")
		if len(frows) != 2 || frows[0][0] != "房间信息" || !strings.HasPrefix(frows[1][1], "'=") {
			t.Fatalf("full export: %v", frows)
		}
		if formula, _ := ff.GetCellFormula("业主列表", "B2"); formula != "" {
			t.Fatalf("exported cell is a formula: %q", formula)
		}
	})
}

func firstRoom(t *testing.T, c *apptest.Client, a *apptest.Community) int {
	t.Helper()
	var rooms struct {
		Items []struct {
			ID int `json:"id"`
		} `json:"items"`
	}
	c.Must(200, "GET", a.Path("/rooms?size=1"), nil).JSON(t, &rooms)
	return rooms.Items[0].ID
}

// TestImportRefusesBadFiles sends files that are not workbooks or are built
// to exhaust memory; each is refused with a reason and little memory.
func TestImportRefusesBadFiles(t *testing.T) {
	// Not parallel: it measures what the whole test process allocates
	// while a file is refused.
	s := apptest.Start(t, storetest.Backends()[0])
	op := s.Operator()
	a := s.NewCommunity(t, op, "坏文件小区", "BF")
	b := s.NewCommunity(t, op, "别人的小区", "BF2")
	m := a.Manager

	png := jpegBytes(10, 10) // any image bytes renamed to .xlsx
	bomb := zipBomb(t, 400<<20)
	foreign := fillTemplate(t, b.Manager, b, [][]string{{"0502", "外人", "13900000001"}})
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"picture renamed to xlsx", png, "不是 Excel 工作簿"},
		{"zip bomb", bomb, "解压后"},
		{"another community's template", foreign, "不属于本小区"},
		{"empty file", []byte{}, "不是 Excel 工作簿"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := importFile(m, a, "residents.xlsx", tt.data)
			runtime.ReadMemStats(&after)
			if r.Status != 422 || !strings.Contains(string(r.Body), tt.want) {
				t.Fatalf("%d %s, want 422 with %q", r.Status, r.Body, tt.want)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Fatalf("refusing it allocated %d MiB (bound 64 MiB)", grew>>20)
			}
		})
	}
	if n := residentCount(t, m, a); n != 0 {
		t.Fatalf("refused files wrote %d residents", n)
	}
	// Over the size limit: refused before it is read.
	big := bytes.Repeat([]byte("x"), 11<<20)
	if r := importFile(m, a, "big.xlsx", append([]byte("PK\x03\x04"), big...)); r.Status != 413 && r.Status != 422 {
		t.Fatalf("11 MB upload: %d %s", r.Status, r.Body)
	}
}

// zipBomb returns a small .xlsx-looking zip whose worksheet unpacks to size bytes.
func zipBomb(t *testing.T, size int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"xl/workbook.xml":            `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="1区-1栋-1单元" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
	} {
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte(body))
	}
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for range size >> 20 {
		_, _ = w.Write(chunk)
	}
	_ = zw.Close()
	if b.Len() > 2<<20 {
		t.Fatalf("zip bomb is %d bytes; it should be small", b.Len())
	}
	return b.Bytes()
}

// TestImportLibreOfficeWorkbook imports a workbook that LibreOffice wrote from
// a CSV, as a person's own tools would produce it.
func TestImportLibreOfficeWorkbook(t *testing.T) {
	t.Parallel()
	lo, err := exec.LookPath("libreoffice")
	if err != nil {
		if os.Getenv("CI_REQUIRE_LIBREOFFICE") != "" {
			t.Fatal("libreoffice is not installed")
		}
		t.Skip("libreoffice is not installed (scripts/test.sh installs it)")
	}
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "办公软件小区", "LO")
		m := a.Manager
		m.Must(201, "POST", a.Path(fmt.Sprintf("/units/%d/rooms/batch", a.UnitID)), map[string]any{"floors": 3, "rooms_per_floor": 2})
		dir := t.TempDir()
		csv := fmt.Sprintf("1区-1栋-1单元,,\n%d,,\n房号,姓名,手机号码\n101,张三,13800138000\n0102,李四,NULL\n201,王五,+86 139 0000 0001\n0502,赵六,\n", a.UnitID)
		if err := os.WriteFile(filepath.Join(dir, "residents.csv"), []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(lo, "--headless", "--norestore", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
			"--infilter=CSV:44,34,76,1", "--convert-to", "xlsx", "--outdir", dir, filepath.Join(dir, "residents.csv"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("libreoffice: %v\n%s", err, out)
		}
		data, err := os.ReadFile(filepath.Join(dir, "residents.xlsx"))
		if err != nil {
			t.Fatal(err)
		}
		r := importFile(m, a, "residents.xlsx", data)
		var result struct{ Created int }
		r.JSON(t, &result)
		if r.Status != 200 || result.Created != 4 {
			t.Fatalf("LibreOffice workbook: %d %s", r.Status, r.Body)
		}
		var l residentList
		m.Must(200, "GET", a.Path("/residents?q=王五"), nil).JSON(t, &l)
		if l.Total != 1 || l.Items[0].Phone != "13900000001" || l.Items[0].RoomLabel != "【办公软件小区】-1区-1栋-1单元-0201" {
			t.Fatalf("imported row: %+v", l.Items)
		}
	})
}
