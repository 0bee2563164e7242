// Command delayproxy forwards TCP connections from a listening address to
// a target, delaying every byte by the same time in each direction. The
// benchmark uses it inside its network namespace when the kernel lacks
// the netem queueing discipline: then each round trip through the proxy
// costs twice the delay, as with `tc qdisc add dev lo root netem delay D`,
// except that the TCP handshake with the proxy itself is not delayed.
//
//	delayproxy -listen 127.0.0.1:2587 -target 127.0.0.1:40123 -delay 25ms
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	target := flag.String("target", "", "address to forward to")
	delay := flag.Duration("delay", 25*time.Millisecond, "one-way delay")
	flag.Parse()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "delayproxy:", err)
		os.Exit(1)
	}
	fmt.Println(l.Addr())
	for {
		client, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer client.Close()
			server, err := net.Dial("tcp", *target)
			if err != nil {
				return
			}
			defer server.Close()
			done := make(chan struct{}, 2)
			go forward(server, client, *delay, done)
			go forward(client, server, *delay, done)
			<-done
		}()
	}
}

// chunk is bytes read at a time, to be written when it is due.
type chunk struct {
	data []byte
	due  time.Time
}

// forward copies from src to dst, each read written delay after it was
// read, in order; a close is passed on after the same delay.
func forward(dst, src net.Conn, delay time.Duration, done chan<- struct{}) {
	queue := make(chan chunk, 1024)
	go func() {
		defer close(queue)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				queue <- chunk{buf[:n], time.Now().Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range queue {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	time.Sleep(delay)
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	done <- struct{}{}
	_, _ = io.Copy(io.Discard, src)
}
