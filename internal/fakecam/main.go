package fakecam

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// Main runs a fake camera until ctx ends: linli sim camera -listen
// 127.0.0.1:8899. It prints one line with its addresses and credentials.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("linli sim camera", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8899", "ONVIF and snapshot HTTP address (host:port; port 0 picks one)")
	rtsp := fs.String("rtsp", "127.0.0.1:0", "RTSP address")
	name := fs.String("name", "LINLI CAM", "name drawn on the snapshot (ASCII)")
	user := fs.String("user", "admin", "username")
	password := fs.String("password", "admin123", "password")
	noAudio := fs.Bool("no-audio", false, "leave the G.711 track out")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cam, err := Start(Config{Name: *name, Username: *user, Password: *password, HTTPAddr: *listen, RTSPAddr: *rtsp, NoAudio: *noAudio})
	if err != nil {
		return err
	}
	defer cam.Close()
	fmt.Fprintf(stdout, "fake camera onvif=%s rtsp=%s user=%s password=%s\n", cam.Addr(), cam.RTSPURL(), *user, *password)
	<-ctx.Done()
	return nil
}
