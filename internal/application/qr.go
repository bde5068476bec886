package application

import (
	"bytes"
	"context"
	"fmt"

	qrcode "github.com/yeqown/go-qrcode/v2"
	"github.com/yeqown/go-qrcode/writer/standard"
)

// Link returns the H5 application address of community cid under base
// (scheme and host, e.g. https://wuye.example.com).
func (s *Service) Link(ctx context.Context, cid int, base string) (string, error) {
	token, err := s.Token(ctx, cid)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/h5/apply/%s", base, token), nil
}

// QRCode returns a PNG QR code of the application address of community cid
// (下载业主申请二维码).
func (s *Service) QRCode(ctx context.Context, cid int, base string) ([]byte, error) {
	link, err := s.Link(ctx, cid, base)
	if err != nil {
		return nil, err
	}
	qrc, err := qrcode.NewWith(link, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("application: qr: %w", err)
	}
	var buf closingBuffer
	w := standard.NewWithWriter(&buf, standard.WithQRWidth(12), standard.WithBorderWidth(24),
		standard.WithBuiltinImageEncoder(standard.PNG_FORMAT))
	if err := qrc.Save(w); err != nil {
		return nil, fmt.Errorf("application: qr: %w", err)
	}
	return buf.Bytes(), nil
}

type closingBuffer struct{ bytes.Buffer }

func (*closingBuffer) Close() error { return nil }
