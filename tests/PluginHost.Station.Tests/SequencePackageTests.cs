using PluginHost.Contracts.Testing;
using PluginHost.Station.Worker.Sequences;
using Xunit;

namespace PluginHost.Station.Tests;

public sealed class SequencePackageTests : IDisposable
{
    private readonly TempDirectory _dir = new("package");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_sample_package_reads_with_its_groups_slots_and_validators()
    {
        var (sequence, problems) = SequencePackage.Read(StationPaths.SamplePackage);

        Assert.Empty(problems);
        Assert.Equal(("pcb-power", 4, 4, 1), (sequence!.Name, sequence.Setup.Count, sequence.Main.Count, sequence.Teardown.Count));
        Assert.Equal(["psu", "dmm"], sequence.Slots);
        var rail = sequence.Main[0];
        Assert.Equal((StepAction.Measure, "dmm", "V"), (rail.Action, rail.Slot, rail.Measurement!.Units));
        Assert.Equal(new InRange(3.135, 3.465, 3.2, 3.4), rail.Measurement.Validator);
        Assert.Equal(2, sequence.Main[2].Repeat);
    }

    [Fact]
    public void A_package_that_does_not_validate_reports_every_problem_at_its_line_and_column()
    {
        _dir.Write("sequence.yaml", """
            name: broken
            hardware:
              dmm: {}
            main:
              - name: a
                measure: { slot: dmm, command: "MEAS? ${nope}", validator: { in_range: { min: low } } }
              - name: b
                write: { slot: scope, command: "X" }
                query: { slot: dmm, command: "Y?" }
              - name: c
                measure: { slot: dmm, command: "Z?", validator: { between: {} } }
                onFail: explode
                timeout: soon
            colour: red
            """);

        var (sequence, problems) = SequencePackage.Read(_dir.Path);

        Assert.Null(sequence);
        var file = _dir.Combine("sequence.yaml");
        Assert.Contains($"{file}:6:36: ${{nope}} names no parameter of the package", problems);
        Assert.Contains(problems, p => p.StartsWith($"{file}:6:", StringComparison.Ordinal) && p.Contains("\"min\" is a number (found \"low\")", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith($"{file}:7:5:", StringComparison.Ordinal) && p.Contains("exactly one of write, query, measure, wait", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("validator \"between\" is one of", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("onFail \"explode\" is continue or stop", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("\"timeout\" is a duration", StringComparison.Ordinal));
        Assert.StartsWith($"{file}:14:1: unknown key \"colour\"", problems[^1], StringComparison.Ordinal);
        Assert.StartsWith($"{file}:6:36:", problems[0], StringComparison.Ordinal); // in the order of the file
    }

    [Fact]
    public void Yaml_that_does_not_parse_is_one_problem_with_its_position()
    {
        _dir.Write("sequence.yaml", "name: x\nmain: [\n");

        var (_, problems) = SequencePackage.Read(_dir.Path);

        Assert.StartsWith(_dir.Combine("sequence.yaml") + ":", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_the_file_says_so()
    {
        Assert.Contains("no sequence.yaml", Assert.Single(SequencePackage.Read(_dir.Path).Problems), StringComparison.Ordinal);
    }
}
