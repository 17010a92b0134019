// An MPTCP listener (IPPROTO_MPTCP = 262) that answers each connection with whether it is
// really MPTCP (TCP_IS_MPTCP = 43) and how many bytes it read.
export const MPTCP_SERVER = `
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, 262)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('::', 7002)); s.listen(16)
print('listening', flush=True)
while True:
    c, addr = s.accept()
    n = 0
    while True:
        d = c.recv(65536)
        if not d: break
        n += len(d)
    c.sendall(('mptcp=%d bytes=%d peer=%s\\n' % (c.getsockopt(socket.SOL_TCP, 43), n, addr[0])).encode())
    c.close()
`;
