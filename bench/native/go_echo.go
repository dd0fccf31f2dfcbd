// An echo server in Go speaking EchoHost's line protocol: each line comes back as prefix + line + "\n". One
// goroutine per connection on Go's net poller, as Go servers are written; over TLS (crypto/tls) when given a
// certificate. The Go baseline of bench/tls_storm.py (TLS) and bench/scaling.py (plain TCP; GOMAXPROCS sets its
// threads).
//
//	go build -o go_echo go_echo.go && ./go_echo -port 9000 -prefix 'Echoed back: ' [-cert cert.pem -key key.pem]
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net"
)

func main() {
	port := flag.Int("port", 9000, "TCP port on 127.0.0.1")
	certFile := flag.String("cert", "", "PEM certificate: serve TLS")
	keyFile := flag.String("key", "", "PEM private key, with -cert")
	prefix := flag.String("prefix", "Echoed back: ", "reply prefix")
	flag.Parse()

	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	if *certFile != "" {
		certificate, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			log.Fatal(err)
		}
		listener = tls.NewListener(listener, &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12})
	}
	for {
		connection, err := listener.Accept()
		if err != nil {
			continue
		}
		go serve(connection, []byte(*prefix))
	}
}

func serve(connection net.Conn, prefix []byte) {
	defer connection.Close()
	reader := bufio.NewReaderSize(connection, 16*1024)
	writer := bufio.NewWriterSize(connection, 16*1024)
	for {
		line, err := reader.ReadSlice('\n')
		if err != nil {
			return
		}
		writer.Write(prefix)
		writer.Write(line)
		// Flush once the client has nothing more buffered, as EchoHost does per read.
		if reader.Buffered() == 0 && writer.Flush() != nil {
			return
		}
	}
}
