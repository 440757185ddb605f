using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Inference.Server.Grpc;

/// <summary>
/// The Kestrel endpoint the gRPC service listens on. Kestrel writes the bound address back into it, so with
/// --grpc-port 0 <see cref="Port"/> is the port it really got once the server started.
/// </summary>
public sealed class GrpcListener
{
    internal ListenOptions? Options { get; set; }

    /// <summary>The bound port, or -1 before Kestrel configured the endpoint.</summary>
    public int Port => (Options?.EndPoint as IPEndPoint)?.Port ?? -1;

    /// <summary>"http://HOST:PORT" for a client (loopback when bound to all addresses).</summary>
    public string Url
    {
        get
        {
            var ep = Options?.EndPoint as IPEndPoint ?? throw new InvalidOperationException("the gRPC endpoint is not configured");
            var ip = ep.Address.Equals(IPAddress.Any) ? IPAddress.Loopback : ep.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : ep.Address;
            return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"http://[{ip}]:{ep.Port}" : $"http://{ip}:{ep.Port}";
        }
    }
}
