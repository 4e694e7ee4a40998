using System.Buffers.Binary;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace PluginHost.Api;

/// <summary>
/// RFC 6455 §5.1: a client masks every frame it sends, and a server closes the connection on one
/// that is not masked. .NET's WebSocket accepts unmasked client frames, so the upgraded connection is
/// read through <see cref="Stream"/> that follows the frame headers and ends the connection at the
/// first unmasked one.
/// </summary>
internal sealed class MaskedClientFrames(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync() => new Checked(await inner.UpgradeAsync().ConfigureAwait(false));

    /// <summary>Puts the check in front of the WebSocket middleware, for every request that may upgrade.</summary>
    public static RequestDelegate Require(RequestDelegate next) => http =>
    {
        if (http.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            http.Features.Set<IHttpUpgradeFeature>(new MaskedClientFrames(upgrade));
        }

        return next(http);
    };

    private sealed class Checked(Stream inner) : Stream
    {
        private const int MaxHeaderBytes = 14; // 2, + 8 of extended length, + 4 of masking key
        private readonly byte[] _header = new byte[MaxHeaderBytes];
        private int _headerBytes;
        private long _payloadLeft;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            Inspect(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            Inspect(buffer[..read]);
            return read;
        }

        /// <summary>Follows frame boundaries through the bytes read: headers byte by byte, payloads skipped whole.</summary>
        private void Inspect(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                if (_payloadLeft > 0)
                {
                    var skip = (int)Math.Min(_payloadLeft, data.Length);
                    _payloadLeft -= skip;
                    data = data[skip..];
                    continue;
                }

                _header[_headerBytes++] = data[0];
                data = data[1..];
                if (_headerBytes < 2)
                {
                    continue;
                }

                if ((_header[1] & 0x80) == 0)
                {
                    inner.Dispose();
                    throw new IOException("the client sent an unmasked frame (RFC 6455 §5.1): connection closed");
                }

                var length7 = _header[1] & 0x7F;
                var headerLength = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + 4;
                if (_headerBytes < headerLength)
                {
                    continue;
                }

                _payloadLeft = length7 switch
                {
                    126 => BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(2)),
                    127 => (long)BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(2)), // a set top bit reads negative: nothing left to skip, ManagedWebSocket refuses it
                    _ => length7,
                };
                _headerBytes = 0;
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
