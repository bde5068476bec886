package httpapi

import "net/url"

// File is an answer that is a file rather than JSON: pictures, workbooks,
// QR codes. Browsers are told not to guess its type (nosniff).
type File struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	CacheControl       string `header:"Cache-Control"`
	NoSniff            string `header:"X-Content-Type-Options"`
	Body               []byte
}

// NewFile returns data as a File of contentType, cached as cacheControl
// says (e.g. "private, no-store").
func NewFile(contentType, cacheControl string, data []byte) *File {
	return &File{ContentType: contentType, CacheControl: cacheControl, NoSniff: "nosniff", Body: data}
}

// Download returns data as a File that browsers save as name (UTF-8, with
// fallback for clients that only read the ASCII filename). It is never cached.
func Download(contentType, fallback, name string, data []byte) *File {
	f := NewFile(contentType, "private, no-store", data)
	f.ContentDisposition = `attachment; filename="` + fallback + `"; filename*=UTF-8''` + url.PathEscape(name)
	return f
}
