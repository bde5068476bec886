// Package xlsx writes .xlsx workbooks as a stream (exports of residents and
// records), reads uploaded ones sheet by sheet and row by row within limits
// on what they unzip (imports), and escapes text so that spreadsheet
// programs never run it as a formula. It alone imports the spreadsheet
// library.
package xlsx

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Writer writes an .xlsx workbook as a stream: each worksheet goes straight
// into the zip, so memory does not grow with the number of sheets or rows
// (a community of 2,000 units exports in a few MiB). It writes text cells,
// three styles and column widths.
type Writer struct {
	zw     *zip.Writer
	sheets []string
	cur    *bufio.Writer
	row    int
}

// Cell styles of the workbook (indexes into styles.xml cellXfs).
const (
	Plain = 0 // default
	Bold  = 1 // headers
	Hint  = 2 // grey instructions
	Text  = 3 // text format ("@"): numbers stay text when edited
)

// Cell is one text cell.
type Cell struct {
	V     string
	Style int
}

// ContentType is the media type of .xlsx files.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Escape makes a text cell safe to open in a spreadsheet program: text that
// starts with = + - @ (or a tab or carriage return) would be taken as a
// formula, so it gets a leading apostrophe. Unescape undoes it on import.
func Escape(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Unescape removes the apostrophe Escape added.
func Unescape(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{zw: zip.NewWriter(w)}
}

// Sheet starts a new worksheet with the given column widths (in characters,
// 0 for the default).
func (s *Writer) Sheet(name string, widths ...float64) error {
	if err := s.endSheet(); err != nil {
		return err
	}
	s.sheets = append(s.sheets, name)
	f, err := s.zw.Create(fmt.Sprintf("xl/worksheets/sheet%d.xml", len(s.sheets)))
	if err != nil {
		return err
	}
	s.cur, s.row = bufio.NewWriterSize(f, 32<<10), 0
	// A bufio.Writer keeps its first error and Flush, which ends the sheet,
	// reports it; the writes in between need no checks of their own.
	_, _ = s.cur.WriteString(xml.Header + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	if len(widths) > 0 {
		_, _ = s.cur.WriteString("<cols>")
		for i, w := range widths {
			if w > 0 {
				fmt.Fprintf(s.cur, `<col min="%d" max="%d" width="%g" customWidth="1"/>`, i+1, i+1, w)
			}
		}
		_, _ = s.cur.WriteString("</cols>")
	}
	_, _ = s.cur.WriteString("<sheetData>")
	return nil
}

// Add writes the next row; empty cells are skipped.
func (s *Writer) Add(cells ...Cell) {
	s.row++
	fmt.Fprintf(s.cur, `<row r="%d">`, s.row)
	for i, c := range cells {
		if c.V == "" {
			continue
		}
		fmt.Fprintf(s.cur, `<c r="%s%d" t="inlineStr"`, column(i), s.row)
		if c.Style != Plain {
			fmt.Fprintf(s.cur, ` s="%d"`, c.Style)
		}
		_, _ = s.cur.WriteString(`><is><t xml:space="preserve">`)
		_ = xml.EscapeText(s.cur, []byte(strings.ToValidUTF8(c.V, "")))
		_, _ = s.cur.WriteString(`</t></is></c>`)
	}
	_, _ = s.cur.WriteString("</row>")
}

func (s *Writer) endSheet() error {
	if s.cur == nil {
		return nil
	}
	_, _ = s.cur.WriteString("</sheetData></worksheet>")
	err := s.cur.Flush()
	s.cur = nil
	return err
}

// Close writes the workbook parts that list the sheets and finishes the zip.
func (s *Writer) Close() error {
	if err := s.endSheet(); err != nil {
		return err
	}
	var ct, wb, rels strings.Builder
	ct.WriteString(xml.Header + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>`)
	wb.WriteString(xml.Header + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`)
	rels.WriteString(xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i, name := range s.sheets {
		n := i + 1
		fmt.Fprintf(&ct, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, n)
		wb.WriteString(`<sheet name="`)
		_ = xml.EscapeText(&wb, []byte(name))
		fmt.Fprintf(&wb, `" sheetId="%d" r:id="rId%d"/>`, n, n)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, n, n)
	}
	ct.WriteString(`</Types>`)
	wb.WriteString(`</sheets></workbook>`)
	fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`, len(s.sheets)+1)
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", ct.String()},
		{"_rels/.rels", xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", wb.String()},
		{"xl/_rels/workbook.xml.rels", rels.String()},
		{"xl/styles.xml", stylesXML},
	}
	for _, p := range parts {
		f, err := s.zw.Create(p.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return err
		}
	}
	return s.zw.Close()
}

// stylesXML defines: 0 default, 1 bold, 2 grey hint, 3 text format ("@").
const stylesXML = xml.Header + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
	`<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font><font><sz val="11"/><color rgb="FF888888"/><name val="Calibri"/></font></fonts>` +
	`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>` +
	`<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
	`<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
	`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`

// column returns the letters of column i (0 → A, 26 → AA).
func column(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}
