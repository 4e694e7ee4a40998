using PluginHost.Contracts.Testing;
using PluginHost.Contracts.Units;
using Xunit;

namespace PluginHost.Plugins.PythonServer.Tests;

/// <summary>The driver alone: its launch plan, its spec errors and how it reads uvicorn's failures.</summary>
public sealed class PythonServerDriverTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("python-server-plugin");
    private LoadedPluginUnderTest _plugin = null!;

    public async Task InitializeAsync() => _plugin = await LoadedPluginUnderTest.LoadAsync(RepositoryLayout.Plugin("python-server"));

    public async Task DisposeAsync()
    {
        await _plugin.DisposeAsync();
        _dir.Dispose();
    }

    private IUnitDriver Driver => _plugin.Driver("python-server");

    [Fact]
    public async Task The_plan_runs_uvicorn_on_the_allocated_port_in_the_app_directory_with_unbuffered_output()
    {
        Prerequisite.PythonWithUvicorn();
        Directory.CreateDirectory(_dir.Combine("manifests", "app"));
        var context = TestUnitContext.Create("python-server", "app: main:app\nappDir: app\npython: /usr/bin/python3\nuvicornArgs: [--log-level, debug]", _dir.Combine("manifests"), _dir.Combine("data"));

        var plan = await Driver.PrepareAsync(context, CancellationToken.None);

        Assert.Equal("/usr/bin/python3", plan.Command);
        Assert.Equal(["-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", "{port:http}", "--app-dir", _dir.Combine("manifests", "app"), "--log-level", "debug"], plan.Arguments);
        Assert.Equal(_dir.Combine("manifests", "app"), plan.WorkingDirectory);
        Assert.Equal("1", plan.Environment["PYTHONUNBUFFERED"]);
    }

    [Fact]
    public async Task Python_auto_takes_the_apps_own_virtualenv_first_when_it_can_import_uvicorn()
    {
        var venv = _dir.Write("manifests/app/.venv/bin/python", "#!/bin/sh\n# a stand-in interpreter that can import anything\nexit 0\n");
        File.SetUnixFileMode(venv, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var context = TestUnitContext.Create("python-server", "app: main:app\nappDir: app\npython: auto", _dir.Combine("manifests"), _dir.Combine("data"));

        var plan = await Driver.PrepareAsync(context, CancellationToken.None);

        Assert.Equal(venv, plan.Command);
    }

    [Fact]
    public async Task Python_auto_with_no_python_that_can_import_uvicorn_names_every_one_tried()
    {
        var broken = _dir.Write("manifests/app/.venv/bin/python", "#!/bin/sh\nexit 1\n");
        File.SetUnixFileMode(broken, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var context = TestUnitContext.Create("python-server", "app: main:app\nappDir: app\npython: auto", _dir.Combine("manifests"), _dir.Combine("data"));

        try
        {
            var plan = await Driver.PrepareAsync(context, CancellationToken.None);
            Assert.NotEqual(broken, plan.Command); // this machine has another python that can: it was taken instead
        }
        catch (UnitErrorException ex)
        {
            Assert.Equal("UVICORN_NOT_FOUND", ex.Error.Code);
            Assert.Contains(broken, ex.Error.Message, StringComparison.Ordinal);
            Assert.Contains("apt install python3-uvicorn python3-fastapi", ex.Error.Remedy, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_preferred_port_and_scan_become_the_http_port_request()
    {
        var ports = Driver.RequestPorts(SpecYaml.Parse("app: main:app\nport: 9000\nportScan: 3"));

        Assert.Equal([new PortRequest("http", 9000, 3)], ports);
    }

    [Fact]
    public async Task A_missing_interpreter_is_PYTHON_NOT_FOUND_before_anything_is_spawned()
    {
        var context = TestUnitContext.Create("python-server", "app: main:app\npython: no-such-python-3.99", _dir.Combine("manifests"), _dir.Combine("data"));
        Directory.CreateDirectory(_dir.Combine("manifests"));

        var error = await Assert.ThrowsAsync<UnitErrorException>(() => Driver.PrepareAsync(context, CancellationToken.None).AsTask());

        Assert.Equal("PYTHON_NOT_FOUND", error.Error.Code);
        Assert.Contains("no-such-python-3.99", error.Error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', 8121): address already in use", "PORT_IN_USE")]
    [InlineData("ERROR:    Error loading ASGI app. Could not import module \"mian\".", "APP_IMPORT_FAILED")]
    [InlineData("ModuleNotFoundError: No module named 'sqlalchemy'", "APP_IMPORT_FAILED")]
    public void Uvicorn_failures_are_read_into_coded_errors(string line, string code)
    {
        var failure = new UnitFailure(FailureKind.ExitedDuringStart, "exited with code 1", 1, null,
            [new OutputLine(OutputStream.Stderr, line, DateTimeOffset.UnixEpoch)]);

        Assert.Equal(code, Driver.Classify(failure).Code);
    }

    [Fact]
    public void A_crash_loop_says_so_with_the_last_output()
    {
        var failure = new UnitFailure(FailureKind.GaveUp, "5 restarts within 1m", RecentOutput:
            [new OutputLine(OutputStream.Stderr, "Traceback (most recent call last):", DateTimeOffset.UnixEpoch), new OutputLine(OutputStream.Stderr, "RuntimeError: boom", DateTimeOffset.UnixEpoch)]);

        var error = Driver.Classify(failure);

        Assert.Equal("CRASH_LOOP", error.Code);
        Assert.Contains("RuntimeError: boom", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_with_wait_answers_once_the_unit_is_ready_with_the_seeds_status()
    {
        var control = new TestUnitControl();
        var context = TestUnitContext.Create("python-server", "app: main:app", _dir.Combine("manifests"), _dir.Combine("data"), control: control);

        var answer = Driver.InvokeAsync(context, "start", System.Text.Json.JsonDocument.Parse("""{"wait": true}""").RootElement, CancellationToken.None).AsTask();
        var answeredEarly = answer.IsCompleted;
        control.MoveTo(UnitState.Starting);
        var answeredWhileStarting = answer.IsCompleted;
        control.MoveTo(UnitState.Ready);
        var result = await answer.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((false, false), (answeredEarly, answeredWhileStarting));
        Assert.Equal(["start: start requested (python-server operation)"], control.Requests);
        Assert.True(result.Success, result.Message);
        Assert.Equal("running", result.Data!.Value.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Start_with_wait_answers_the_error_when_the_unit_fails_instead()
    {
        var control = new TestUnitControl();
        var context = TestUnitContext.Create("python-server", "app: main:app", _dir.Combine("manifests"), _dir.Combine("data"), control: control);

        var answer = Driver.InvokeAsync(context, "restart", System.Text.Json.JsonDocument.Parse("""{"wait": true}""").RootElement, CancellationToken.None).AsTask();
        control.MoveTo(UnitState.Failed, new UnitError("UVICORN_NOT_FOUND", "uvicorn is missing", "install it"));
        var result = await answer.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(result.Success);
        Assert.Equal("UVICORN_NOT_FOUND", result.Error!.Code);
        Assert.Equal("error", result.Data!.Value.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Stop_without_wait_is_acknowledged_at_once()
    {
        var control = new TestUnitControl();
        control.MoveTo(UnitState.Ready);
        var context = TestUnitContext.Create("python-server", "app: main:app", _dir.Combine("manifests"), _dir.Combine("data"), control: control);

        var result = await Driver.InvokeAsync(context, "stop", System.Text.Json.JsonDocument.Parse("{}").RootElement, CancellationToken.None);

        Assert.True(result.Success);
        Assert.Equal(["stop: stop requested (python-server operation)"], control.Requests);
    }
}
