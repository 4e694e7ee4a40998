using System.Globalization;
using Xunit;

namespace PluginHost.Plugins.Shimmy.Tests;

/// <summary>The seed's ShimmyErrorCode table: the six codes, in its words, chosen by culture.</summary>
public sealed class ShimmyErrorsTests
{
    [Fact]
    public void The_table_has_the_seeds_six_codes_each_with_trigger_recovery_and_message_in_both_languages()
    {
        Assert.Equal(["PORT_IN_USE", "START_TIMEOUT", "HEALTHCHECK_FAILED", "MODEL_NOT_FOUND", "DOWNLOAD_FAILED", "UNSUPPORTED_ACCEL"], ShimmyErrors.Table.Select(e => e.Name));
        Assert.All(ShimmyErrors.Table, e => Assert.All(new[] { e.Trigger, e.Recovery, e.Message }, text =>
        {
            Assert.False(string.IsNullOrWhiteSpace(text.English));
            Assert.Matches("[가-힣]", text.Korean);
        }));
    }

    [Fact]
    public void The_Korean_user_messages_are_the_seeds_own()
    {
        Assert.Equal("다른 애플리케이션이 로컬 포트를 사용 중입니다. 사용 중인 앱을 종료하거나 설정에서 포트를 변경하세요.", ShimmyErrors.Entry(ShimmyErrorCode.PortInUse).Message.Korean);
        Assert.Equal("Shimmy가 예상 시간 내 기동하지 못했습니다. 모델 파일 또는 GPU 설정을 확인하세요.", ShimmyErrors.Entry(ShimmyErrorCode.StartTimeout).Message.Korean);
        Assert.Equal("선택한 모델이 설치되어 있지 않습니다. 다운로드를 진행해주세요.", ShimmyErrors.Entry(ShimmyErrorCode.ModelNotFound).Message.Korean);
        Assert.Equal("프로세스 종료 후 최대 1회 재시작, 재시도 실패 시 오류 노출", ShimmyErrors.Entry(ShimmyErrorCode.StartTimeout).Recovery.Korean);
    }

    [Theory]
    [InlineData("ko-KR", "선택한 모델이 설치되어 있지 않습니다. 다운로드를 진행해주세요. (m.gguf is missing)", "모델 다운로드 플로우 실행")]
    [InlineData("ko", "선택한 모델이 설치되어 있지 않습니다. 다운로드를 진행해주세요. (m.gguf is missing)", "모델 다운로드 플로우 실행")]
    [InlineData("en-US", "The selected model is not installed. Please download it. (m.gguf is missing)", "Run the model download flow")]
    [InlineData("de-DE", "The selected model is not installed. Please download it. (m.gguf is missing)", "Run the model download flow")]
    public void An_error_speaks_the_culture_and_carries_the_recovery_and_the_concrete_step(string culture, string message, string remedyStart)
    {
        var error = ShimmyErrors.Create(ShimmyErrorCode.ModelNotFound, "m.gguf is missing", new CultureInfo(culture), "pluginhost ops llm download");

        Assert.Equal(("MODEL_NOT_FOUND", message), (error.Code, error.Message));
        Assert.StartsWith(remedyStart, error.Remedy, StringComparison.Ordinal);
        Assert.EndsWith("→ pluginhost ops llm download", error.Remedy, StringComparison.Ordinal);
    }
}
