// A TLS echo server in Go's crypto/tls speaking EchoHost's line protocol: each line comes back as
// prefix + line + "\n". One goroutine per connection, as Go servers are written; the baseline for the TLS rows of
// bench/tls_storm.py.
//
//	go build -o tls_echo tls_echo.go && ./tls_echo -port 9000 -cert cert.pem -key key.pem -prefix 'Echoed back: '
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
	certFile := flag.String("cert", "cert.pem", "PEM certificate")
	keyFile := flag.String("key", "key.pem", "PEM private key")
	prefix := flag.String("prefix", "Echoed back: ", "reply prefix")
	flag.Parse()

	certificate, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatal(err)
	}
	config := &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12}
	listener, err := tls.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port), config)
	if err != nil {
		log.Fatal(err)
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
