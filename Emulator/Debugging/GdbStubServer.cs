using System.Net;
using System.Net.Sockets;
using Emulator.Platform;

namespace Emulator.Debugging;

/// <summary>
/// Listens on 127.0.0.1 and serves one gdb client at a time with a <see cref="GdbStub"/> on the
/// calling thread. After a client detaches or disconnects the machine stays where it stopped and
/// the next client can attach; `kill` (or <see cref="Stop"/>) ends serving.
/// </summary>
public sealed class GdbStubServer : IDisposable
{
    private readonly Machine _machine;
    private readonly TcpListener _listener;
    private volatile bool _stopped;

    private GdbStubServer(Machine machine, TcpListener listener)
    {
        _machine = machine;
        _listener = listener;
    }

    /// <summary>The port listened on (useful with port 0, which picks a free one).</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Starts listening; throws <see cref="SocketException"/> when the port is taken.</summary>
    public static GdbStubServer Listen(Machine machine, int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start(1);
        return new GdbStubServer(machine, listener);
    }

    /// <summary>Serves clients until one sends `kill` or the server is stopped.</summary>
    public void Serve(Action<string>? log = null)
    {
        while (!_stopped)
        {
            Socket client;
            try
            {
                client = _listener.AcceptSocket();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using (client)
            {
                client.NoDelay = true;
                log?.Invoke($"gdb: client connected from {client.RemoteEndPoint}");
                var stub = new GdbStub(_machine, client);
                stub.Serve();
                log?.Invoke(stub.Killed ? "gdb: killed by the client" : "gdb: client gone; waiting for another");
                if (stub.Killed)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Stops listening (a Serve in progress ends after its current client).</summary>
    public void Stop()
    {
        _stopped = true;
        _listener.Stop();
    }

    public void Dispose() => Stop();
}
