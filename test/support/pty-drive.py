"""Drives a command under a pseudo-terminal, as a person at a terminal would (for kubectl exec -it).

Usage: python3 pty-drive.py STEPS_JSON -- COMMAND [ARGS...]
STEPS_JSON is a list of steps, run in order:
  {"size": [rows, cols]}   set the terminal's size (before the first "send": the starting size;
                           later: a resize, with SIGWINCH to the command, as a terminal window does)
  {"wait": "text"}         wait (up to 60 s) until the output so far contains text
  {"send": "text"}         type text
Everything the command writes is copied to stdout; the exit code is the command's
(124 when a wait times out, as timeout(1) says).
"""
import fcntl, json, os, pty, select, signal, struct, sys, termios, time

def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))

def main():
    steps = json.loads(sys.argv[1])
    command = sys.argv[sys.argv.index('--') + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    output = b''
    def pump(timeout):
        nonlocal output
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        output += data
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return True
    for step in steps:
        if 'size' in step:
            set_size(fd, *step['size'])
            os.kill(pid, signal.SIGWINCH)
        elif 'send' in step:
            os.write(fd, step['send'].encode())
        elif 'wait' in step:
            deadline = time.time() + 60
            while step['wait'].encode() not in output:
                if time.time() > deadline or not pump(0.2):
                    if step['wait'].encode() in output:
                        break
                    sys.stderr.write('pty-drive: timed out waiting for %r\n' % step['wait'])
                    os.kill(pid, signal.SIGKILL)
                    sys.exit(124)
    while pump(1):
        pass
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))

main()
