package bench

import (
	"fmt"
	"io"
	"time"
)

// Progress prints one timestamped line per phase.
type Progress struct {
	Out   io.Writer
	began time.Time
}

// Printf prints a line prefixed with the time since the suite began.
func (p *Progress) Printf(format string, args ...any) {
	if p.began.IsZero() {
		p.began = time.Now()
	}
	fmt.Fprintf(p.Out, "[%6.1fs] %s\n", time.Since(p.began).Seconds(), fmt.Sprintf(format, args...))
}
