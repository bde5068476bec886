package app_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"strconv"
)

// testIDNumber is a valid GB 11643 number (check digit X).
const testIDNumber = "11010519491231002X"

// jpegBytes returns a w×h JPEG.
func jpegBytes(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 5), 90, 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, nil)
	return b.Bytes()
}

// faceForm is a multipart body for a face upload with a 300×400 JPEG.
func faceForm(consent bool) (string, []byte) {
	return multipartBody("face.jpg", jpegBytes(300, 400), map[string]string{"consent": strconv.FormatBool(consent), "permanent": "true"})
}

// multipartBody builds a multipart form with one file field "file".
func multipartBody(filename string, data []byte, fields map[string]string) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", filename)
	_, _ = fw.Write(data)
	_ = mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// multipartFields builds a form with fields and files named "photos".
func multipartFields(fields map[string]string, photos [][]byte) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for i, p := range photos {
		fw, _ := mw.CreateFormFile("photos", fmt.Sprintf("photo%d.jpg", i+1))
		_, _ = fw.Write(p)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}
