using Microsoft.Extensions.Hosting;

namespace Inference.Server;

/// <summary>Something that needs the engine once the slot holds it (metrics observer, gRPC health status).</summary>
public interface IModelReadyListener
{
    void OnModelReady(ServedModel model);
}

/// <summary>
/// Tells every <see cref="IModelReadyListener"/> when the model has loaded. It polls because ModelSlot raises no
/// event, and loading takes seconds to minutes, so a 50 ms poll costs nothing and delays readiness by at most that.
/// </summary>
public sealed class ModelReadyWatcher(ModelSlot slot, IEnumerable<IModelReadyListener> listeners) : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!slot.IsReady)
        {
            try
            {
                await Task.Delay(Poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return; // the server stopped before the model loaded
            }
        }
        var model = slot.Require();
        foreach (var l in listeners) l.OnModelReady(model);
    }
}
