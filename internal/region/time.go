package region

import "time"

// Time is the clock of the divisions: China Standard Time, UTC+8, without
// daylight saving. Display days of notices start at its midnight, and
// exported times are written in it whatever the server's own zone.
var Time = time.FixedZone("CST", 8*3600)
