package auth

import (
	"regexp"
	"strings"
)

// browsers are matched in order: several browsers also name the ones they
// derive from (Edge says Chrome and Safari, Chrome says Safari).
var browsers = []struct {
	name string
	re   *regexp.Regexp
}{
	{"微信", regexp.MustCompile(`MicroMessenger/([\d]+)`)},
	{"Edge", regexp.MustCompile(`Edg(?:e|A|iOS)?/([\d]+)`)},
	{"Opera", regexp.MustCompile(`OPR/([\d]+)`)},
	{"Firefox", regexp.MustCompile(`(?:Firefox|FxiOS)/([\d]+)`)},
	{"Chrome", regexp.MustCompile(`(?:HeadlessChrome|Chrome|CriOS)/([\d]+)`)},
	{"Safari", regexp.MustCompile(`Version/([\d]+)[\d.]* (?:Mobile/\S+ )?Safari/`)},
}

var systems = []struct {
	name, marker string
}{
	{"HarmonyOS", "HarmonyOS"},
	{"Android", "Android"},
	{"iPhone", "iPhone"},
	{"iPad", "iPad"},
	{"Windows", "Windows"},
	{"macOS", "Mac OS X"},
	{"ChromeOS", "CrOS"},
	{"Linux", "Linux"},
}

// DeviceName describes the browser of a User-Agent header as people name
// it, e.g. "Chrome 126 · Windows"; "未知设备" when it says nothing useful.
func DeviceName(ua string) string {
	browser := ""
	for _, b := range browsers {
		if m := b.re.FindStringSubmatch(ua); m != nil {
			browser = b.name + " " + m[1]
			break
		}
	}
	system := ""
	for _, s := range systems {
		if strings.Contains(ua, s.marker) {
			system = s.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " · " + system
	case browser != "":
		return browser
	case system != "":
		return system
	}
	return "未知设备"
}
