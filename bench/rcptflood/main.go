// Command rcptflood is a hostile SMTP server for bench/rcptflood.sh: on
// 127.0.0.1 it answers every RCPT TO with a reply of about 60 KB (the
// longest a client should accept), so that a check with thousands of
// recipients shows how much memory, and how large reports, the record of
// such a conversation costs. It prints ADDR=host:port, then serves until
// killed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
)

func main() {
	size := flag.Int("reply-kb", 60, "size of each RCPT reply in KB")
	flag.Parse()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "rcptflood:", err)
		os.Exit(1)
	}
	fmt.Printf("ADDR=%s\n", l.Addr())
	var reply strings.Builder
	line := "550-5.1.1 " + strings.Repeat("x", 3990) + "\r\n"
	for reply.Len() < *size<<10 {
		reply.WriteString(line)
	}
	reply.WriteString("550 5.1.1 recipient rejected\r\n")
	big := []byte(reply.String())
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go serve(conn, big)
	}
}

func serve(conn net.Conn, big []byte) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	conn.Write([]byte("220 flood.example ESMTP\r\n"))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch verb := strings.ToUpper(strings.Fields(line + " x")[0]); verb {
		case "EHLO":
			conn.Write([]byte("250-flood.example\r\n250 PIPELINING\r\n"))
		case "RCPT":
			conn.Write(big)
		case "QUIT":
			conn.Write([]byte("221 bye\r\n"))
			return
		default:
			conn.Write([]byte("250 ok\r\n"))
		}
	}
}
