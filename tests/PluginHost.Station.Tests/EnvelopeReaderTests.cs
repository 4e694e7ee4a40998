using System.Text;
using PluginHost.Station.Protocol;
using Xunit;

namespace PluginHost.Station.Tests;

public sealed class EnvelopeReaderTests
{
    [Theory]
    [InlineData("{\"v\":1,\"type\":\"GET_STATUS\",\"batch\":\"b\",\"id\":\"1\"}", null)]
    [InlineData("\u00ff{", "MALFORMED_JSON")]
    [InlineData("[1]", "MALFORMED_MESSAGE")]
    [InlineData("{\"v\":2,\"type\":\"GET_STATUS\",\"batch\":\"b\",\"id\":\"1\"}", "UNSUPPORTED_VERSION")]
    [InlineData("{\"type\":\"GET_STATUS\",\"batch\":\"b\",\"id\":\"1\"}", "UNSUPPORTED_VERSION")]
    [InlineData("{\"v\":1,\"type\":\"STEP_COMPLETE\",\"batch\":\"b\",\"exec\":\"e\",\"seq\":1}", "UNKNOWN_TYPE")]
    [InlineData("{\"v\":1,\"type\":7,\"batch\":\"b\"}", "MALFORMED_MESSAGE")]
    [InlineData("{\"v\":1,\"type\":\"GET_STATUS\",\"id\":\"1\"}", "MALFORMED_MESSAGE")]
    [InlineData("{\"v\":1,\"type\":\"GET_STATUS\",\"batch\":\"b\"}", "MALFORMED_MESSAGE")]
    [InlineData("{\"v\":1,\"type\":\"ACK\",\"batch\":\"b\",\"exec\":\"e\",\"seq\":0}", "MALFORMED_MESSAGE")]
    [InlineData("{\"v\":1,\"type\":\"START_SEQUENCE\",\"batch\":\"b\",\"id\":\"1\",\"body\":[]}", "MALFORMED_MESSAGE")]
    public void Every_frame_a_worker_receives_is_checked_and_a_bad_one_named_with_a_code(string frame, string? code)
    {
        var (message, error) = EnvelopeReader.Read(Encoding.Latin1.GetBytes(frame), MessageTypes.ToWorker);

        Assert.Equal(code, error?.Code);
        Assert.Equal(code is null, message is not null);
    }

    [Fact]
    public void What_a_master_receives_is_checked_the_same_way_for_its_own_types()
    {
        var ok = EnvelopeReader.Read("{\"v\":1,\"type\":\"STEP_COMPLETE\",\"batch\":\"b\",\"exec\":\"e\",\"seq\":3,\"body\":{\"step\":\"s\"}}"u8, MessageTypes.ToMaster);
        var noSeq = EnvelopeReader.Read("{\"v\":1,\"type\":\"STEP_COMPLETE\",\"batch\":\"b\",\"exec\":\"e\"}"u8, MessageTypes.ToMaster);
        var command = EnvelopeReader.Read("{\"v\":1,\"type\":\"SHUTDOWN\",\"batch\":\"b\",\"id\":\"1\"}"u8, MessageTypes.ToMaster);

        Assert.Equal((3L, "s"), (ok.Message!.Sequence!.Value, ok.Message.Body!["step"]!.GetValue<string>()));
        Assert.Equal("MALFORMED_MESSAGE", noSeq.Error!.Code);
        Assert.Equal("UNKNOWN_TYPE", command.Error!.Code);
    }

    [Fact]
    public void A_frame_over_the_limit_is_refused_before_it_is_parsed()
    {
        var huge = new byte[EnvelopeReader.MaxFrameBytes + 1];

        Assert.Equal("FRAME_TOO_LARGE", EnvelopeReader.Read(huge, MessageTypes.ToWorker).Error!.Code);
    }

    [Fact]
    public void Deeply_nested_json_is_refused_not_recursed_into()
    {
        var deep = Encoding.ASCII.GetBytes("{\"v\":1,\"type\":\"GET_STATUS\",\"batch\":\"b\",\"id\":\"1\",\"body\":" + new string('[', 5000) + new string(']', 5000) + "}");

        Assert.Equal("MALFORMED_JSON", EnvelopeReader.Read(deep, MessageTypes.ToWorker).Error!.Code);
    }

    /// <summary>Garbage, and every cut of a valid frame, at each byte: a coded error or a message, never an exception.</summary>
    [Fact]
    public void A_decoder_fed_garbage_and_truncated_frames_never_throws()
    {
        var valid = Encoding.UTF8.GetBytes(new Envelope(MessageTypes.StepComplete, "b1") { Execution = "e-1", Sequence = 9, Body = new() { ["step"] = "rail_3v3", ["value"] = 3.3 } }.ToJson());
        var random = new Random(20261202);
        var frames = Enumerable.Range(0, valid.Length).Select(n => valid[..n]).ToList();
        for (var i = 0; i < 5000; i++)
        {
            var frame = (byte[])valid.Clone();
            for (var flips = random.Next(1, 6); flips > 0; flips--)
            {
                frame[random.Next(frame.Length)] = (byte)random.Next(256);
            }

            frames.Add(frame);
            var noise = new byte[random.Next(0, 200)];
            random.NextBytes(noise);
            frames.Add(noise);
        }

        foreach (var frame in frames)
        {
            var (message, error) = EnvelopeReader.Read(frame, MessageTypes.ToMaster);
            Assert.True(message is not null ^ error is not null);
            Assert.False(string.IsNullOrEmpty(error?.Code ?? "ok"));
        }
    }

    [Fact]
    public void What_is_written_reads_back_the_same()
    {
        var sent = new Envelope(MessageTypes.Reply, "b1") { Re = "c7", Ok = false, Error = new ProtocolError("SEQUENCE_RUNNING", "busy") };

        var (back, _) = EnvelopeReader.Read(Encoding.UTF8.GetBytes(sent.ToJson()), MessageTypes.ToMaster);

        Assert.Equal(("c7", false, "SEQUENCE_RUNNING", "busy"), (back!.Re, back.Ok, back.Error!.Code, back.Error.Message));
    }
}
