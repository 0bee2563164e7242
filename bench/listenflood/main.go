// Command listenflood plays a hostile client against smtpdiag listen, for
// bench/listen.sh: a flood of pipelined NOOPs, or a flood of messages
// with huge header sections. It connects to loopback addresses only.
//
//	listenflood -addr 127.0.0.1:2525 -mode noop -bytes 12582912
//	listenflood -addr 127.0.0.1:2525 -mode headers -messages 1000 -header 261120
//
// It prints one line: what it sent and the server's last reply.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "", "the listener's address, a loopback ip:port")
	mode := flag.String("mode", "noop", "noop: pipelined NOOPs; headers: messages with huge header sections")
	size := flag.Int("bytes", 12<<20, "noop: how many octets of NOOP lines to send")
	messages := flag.Int("messages", 1000, "headers: how many messages to send")
	header := flag.Int("header", 255<<10, "headers: the size of each message's header section")
	flag.Parse()
	if err := run(*addr, *mode, *size, *messages, *header); err != nil {
		fmt.Fprintln(os.Stderr, "listenflood:", err)
		os.Exit(1)
	}
}

func run(addr, mode string, size, messages, header int) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address; listenflood floods nothing else", addr)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Minute))
	r := bufio.NewReaderSize(conn, 64<<10)
	switch mode {
	case "noop":
		return noops(conn, r, size)
	case "headers":
		return headers(conn, r, messages, header)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// reply reads one reply and returns its last line, "" at the end of the
// connection.
func reply(r *bufio.Reader) string {
	for {
		line, err := r.ReadString('\n')
		if err != nil || len(line) < 4 || line[3] != '-' {
			return strings.TrimRight(line, "\r\n")
		}
	}
}

// noops sends EHLO and size octets of NOOP lines without waiting for
// the replies (RFC 2920 pipelining, abused), reading them meanwhile so
// that the server is never held up by a full socket.
func noops(conn net.Conn, r *bufio.Reader, size int) error {
	last, count := "", 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for line := reply(r); line != ""; line = reply(r) {
			last = line
			count++
		}
	}()
	sent := 0
	io.WriteString(conn, "EHLO flood.example\r\n")
	chunk := []byte(strings.Repeat("NOOP\r\n", 64<<10/6))
	for sent < size {
		n, err := conn.Write(chunk[:min(len(chunk), size-sent)])
		sent += n
		if err != nil {
			break
		}
	}
	io.WriteString(conn, "QUIT\r\n")
	conn.(*net.TCPConn).CloseWrite()
	<-done
	fmt.Printf("sent %d octets of NOOPs; %d replies; last: %q\n", sent, count, last)
	return nil
}

// headers sends messages, each with a header section of size octets,
// one after the other, until the server refuses or closes.
func headers(conn net.Conn, r *bufio.Reader, messages, size int) error {
	var h strings.Builder
	for i := 0; h.Len() < size; i++ {
		fmt.Fprintf(&h, "X-Filler-%d: %s\r\n", i, strings.Repeat("h", 990))
	}
	text := "From: flood@example.test\r\nSubject: flood\r\n" + h.String() + "\r\nbody\r\n.\r\n"
	last := reply(r)
	fmt.Fprintf(conn, "EHLO flood.example\r\n")
	last = reply(r)
	accepted := 0
	for accepted < messages {
		fmt.Fprintf(conn, "MAIL FROM:<flood@example.test>\r\n")
		if last = reply(r); !strings.HasPrefix(last, "250") {
			break
		}
		fmt.Fprintf(conn, "RCPT TO:<a@example.test>\r\n")
		if last = reply(r); !strings.HasPrefix(last, "250") {
			break
		}
		fmt.Fprintf(conn, "DATA\r\n")
		if last = reply(r); !strings.HasPrefix(last, "354") {
			break
		}
		io.WriteString(conn, text)
		if last = reply(r); !strings.HasPrefix(last, "250") {
			break
		}
		accepted++
	}
	fmt.Fprintf(conn, "QUIT\r\n")
	reply(r)
	fmt.Printf("%d of %d messages accepted (header sections of %d octets); last reply: %q\n", accepted, messages, h.Len(), last)
	return nil
}
