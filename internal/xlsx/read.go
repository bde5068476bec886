package xlsx

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// ErrTooLarge is returned by Open and Workbook.Rows when a part of the
// workbook unzips beyond the limits given to Open: a damaged or crafted
// file (a zip bomb).
var ErrTooLarge = errors.New("xlsx: unzipped size over the limit")

// ErrUnreadable is returned by Open for data that is not a workbook it can
// read.
var ErrUnreadable = errors.New("xlsx: not a readable workbook")

// errPanic marks the error of a malformed file that made the spreadsheet
// library panic: the reader turns it into an error, and the fuzz test
// fails on it so that the cause is found.
var errPanic = errors.New("xlsx: reading panicked")

// Limits bound what reading a workbook may unzip.
type Limits struct {
	// Unzipped bounds everything inside the file, uncompressed.
	Unzipped int64
	// SheetXML bounds one worksheet's XML held in memory; a larger sheet
	// is read from a temporary file.
	SheetXML int64
}

// Workbook is an .xlsx workbook open for reading, sheet by sheet and row by
// row. Close releases it.
type Workbook struct {
	f *excelize.File
}

// Open reads the workbook in data within limits.
//
// Errors: ErrTooLarge, ErrUnreadable (each wrapping the cause).
func Open(data []byte, limits Limits) (wb *Workbook, err error) {
	// A malformed file must be an error, never a crash of the server.
	defer func() {
		if r := recover(); r != nil {
			wb, err = nil, fmt.Errorf("%w: %w: %v", ErrUnreadable, errPanic, r)
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: limits.Unzipped, UnzipXMLSizeLimit: limits.SheetXML,
	})
	if err != nil {
		if errors.Is(err, excelize.ErrOptionsUnzipSizeLimit) || strings.Contains(err.Error(), "unzip size") {
			return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	return &Workbook{f: f}, nil
}

// Sheets returns the names of the worksheets in workbook order.
func (w *Workbook) Sheets() []string { return w.f.GetSheetList() }

// Rows starts reading sheet row by row.
//
// Errors: ErrTooLarge, or the reason the sheet cannot be read.
func (w *Workbook) Rows(sheet string) (rows *Rows, err error) {
	defer func() {
		if r := recover(); r != nil {
			rows, err = nil, fmt.Errorf("%w: sheet %q: %v", errPanic, sheet, r)
		}
	}()
	it, err := w.f.Rows(sheet)
	if err != nil {
		if strings.Contains(err.Error(), "unzip size") || strings.Contains(err.Error(), "size limit") {
			return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		return nil, err
	}
	return &Rows{it: it}, nil
}

// Close releases the workbook and any temporary files of its sheets.
func (w *Workbook) Close() error { return w.f.Close() }

// Rows reads one worksheet row by row; Close releases it.
type Rows struct {
	it  *excelize.Rows
	err error
}

// Next moves to the next row (an empty row in the file counts as a row),
// and reports whether there is one.
func (r *Rows) Next() (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			r.err, ok = fmt.Errorf("%w: %v", errPanic, p), false
		}
	}()
	return r.err == nil && r.it.Next()
}

// Columns returns the text of the current row's cells as the spreadsheet
// shows them, from column A to its last cell.
func (r *Rows) Columns() (cells []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			cells, err = nil, fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	return r.it.Columns(excelize.Options{RawCellValue: false})
}

// Err returns the error that stopped Next before the end of the sheet: a
// malformed row the library could not get past.
func (r *Rows) Err() error { return r.err }

// Close releases the reading of the sheet.
func (r *Rows) Close() error { return r.it.Close() }
