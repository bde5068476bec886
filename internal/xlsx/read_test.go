package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"slices"
	"testing"
)

// written returns a workbook made by Writer: two sheets, the second with a
// gap row, an escaped formula and text that needs XML escaping.
func written(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.Sheet("1栋1单元", 10, 20); err != nil {
		tb.Fatal(err)
	}
	w.Add(Cell{V: "1栋1单元", Style: Bold})
	w.Add(Cell{V: "42", Style: Text})
	w.Add(Cell{V: "房号", Style: Bold}, Cell{V: "姓名", Style: Bold}, Cell{V: "手机号码", Style: Bold})
	w.Add(Cell{V: "0101"}, Cell{V: "张三 <&>"}, Cell{V: "13900000000"})
	if err := w.Sheet("空"); err != nil {
		tb.Fatal(err)
	}
	w.Add(Cell{V: "a"})
	w.Add()
	w.Add(Cell{}, Cell{V: Escape("=1+1")})
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// readAll returns every sheet's rows.
func readAll(tb testing.TB, data []byte, limits Limits) (map[string][][]string, error) {
	tb.Helper()
	wb, err := Open(data, limits)
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	out := map[string][][]string{}
	for _, s := range wb.Sheets() {
		rows, err := wb.Rows(s)
		if err != nil {
			return out, err
		}
		for rows.Next() {
			cells, err := rows.Columns()
			if err != nil {
				_ = rows.Close()
				return out, err
			}
			out[s] = append(out[s], cells)
		}
		err = rows.Err()
		_ = rows.Close()
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

var testLimits = Limits{Unzipped: 1 << 20, SheetXML: 1 << 20}

// TestReadWritten reads back what Writer wrote, row by row, gaps included.
func TestReadWritten(t *testing.T) {
	got, err := readAll(t, written(t), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][][]string{
		"1栋1单元": {{"1栋1单元"}, {"42"}, {"房号", "姓名", "手机号码"}, {"0101", "张三 <&>", "13900000000"}},
		"空":     {{"a"}, nil, {"", "'=1+1"}},
	}
	for s, rows := range want {
		if len(got[s]) != len(rows) {
			t.Fatalf("sheet %s: %q, want %q", s, got[s], rows)
		}
		for i := range rows {
			if !slices.Equal(got[s][i], rows[i]) {
				t.Errorf("sheet %s row %d: %q, want %q", s, i+1, got[s][i], rows[i])
			}
		}
	}
}

// TestReadRefuses: what is not a workbook is unreadable; a part that
// unzips beyond the limit is too large.
func TestReadRefuses(t *testing.T) {
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	f, _ := zw.Create("xl/worksheets/sheet1.xml")
	_, _ = f.Write(bytes.Repeat([]byte(" "), 2<<20))
	_ = zw.Close()
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrUnreadable},
		{"text", []byte("房号,姓名\n0101,张三\n"), ErrUnreadable},
		{"truncated", written(t)[:300], ErrUnreadable},
		{"bomb", bomb.Bytes(), ErrTooLarge},
	} {
		if _, err := Open(c.data, testLimits); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzRead feeds the reader arbitrary files: whatever the bytes, reading
// every row of every sheet ends with rows or an error, never a panic or a
// hang.
func FuzzRead(f *testing.F) {
	f.Add(written(f))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		wb, err := Open(data, Limits{Unzipped: 1 << 20, SheetXML: 64 << 10})
		if err != nil {
			if errors.Is(err, errPanic) {
				t.Fatal(err)
			}
			return
		}
		defer wb.Close()
		for _, s := range wb.Sheets() {
			rows, err := wb.Rows(s)
			if errors.Is(err, errPanic) {
				t.Fatal(err)
			}
			if err != nil {
				continue
			}
			for n := 0; n < 10_000 && rows.Next(); n++ {
				if _, err := rows.Columns(); errors.Is(err, errPanic) {
					t.Fatal(err)
				}
			}
			if err := rows.Err(); errors.Is(err, errPanic) {
				t.Fatal(err)
			}
			_ = rows.Close()
		}
	})
}
