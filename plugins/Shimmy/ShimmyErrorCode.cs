using System.Globalization;
using PluginHost.Contracts.Units;

namespace PluginHost.Plugins.Shimmy;

/// <summary>The seed's ShimmyErrorCode: every shimmy failure a person sees is one of these (plus preflight codes).</summary>
internal enum ShimmyErrorCode
{
    PortInUse,
    StartTimeout,
    HealthcheckFailed,
    ModelNotFound,
    DownloadFailed,
    UnsupportedAccel,
}

/// <summary>One row of the seed's mapping table, in its own words (Korean) and in English.</summary>
internal sealed record ShimmyErrorEntry(ShimmyErrorCode Code, string Name, Localized Trigger, Localized Recovery, Localized Message);

internal sealed record Localized(string English, string Korean)
{
    /// <summary>Korean for a Korean UI culture, English otherwise.</summary>
    public string For(CultureInfo culture) => culture.TwoLetterISOLanguageName == "ko" ? Korean : English;
}

/// <summary>
/// The seed's "ShimmyErrorCode mapping guide": trigger, default recovery and user message for each
/// code — one table that the API, the CLI and the dashboard all show (operation <c>errors</c>).
/// </summary>
internal static class ShimmyErrors
{
    public static IReadOnlyList<ShimmyErrorEntry> Table { get; } =
    [
        new(ShimmyErrorCode.PortInUse, "PORT_IN_USE",
            new("The preferred port and the backup ports (up to 10 tries) are all taken.",
                "선호 포트 및 백업 포트(최대 10회 시도)가 모두 점유됨"),
            new("Search again for the next available port; if every candidate fails, stop the process.",
                "다음 사용 가능한 포트를 다시 검색하고, 모든 후보가 실패하면 프로세스 중단"),
            new("Another application is using the local port. Quit the application using it or change the port in the settings.",
                "다른 애플리케이션이 로컬 포트를 사용 중입니다. 사용 중인 앱을 종료하거나 설정에서 포트를 변경하세요.")),
        new(ShimmyErrorCode.StartTimeout, "START_TIMEOUT",
            new("The shimmy process did not report ready within the health-check timeout (default 120 s).",
                "shimmy 프로세스가 헬스체크 타임아웃(기본 120초) 내에 준비 완료 신호를 반환하지 않음"),
            new("Kill the process and restart it at most once; if the retry fails, show the error.",
                "프로세스 종료 후 최대 1회 재시작, 재시도 실패 시 오류 노출"),
            new("Shimmy did not start within the expected time. Check the model file or the GPU settings.",
                "Shimmy가 예상 시간 내 기동하지 못했습니다. 모델 파일 또는 GPU 설정을 확인하세요.")),
        new(ShimmyErrorCode.HealthcheckFailed, "HEALTHCHECK_FAILED",
            new("The /v1/models health check failed several times in a row or answered abnormally.",
                "`/v1/models` 헬스체크 호출이 연속으로 실패하거나 비정상 응답 반환"),
            new("Capture stdout/stderr, then restart; notify the user when it keeps failing.",
                "표준출력/표준에러 로그 캡처 후 재기동, 반복 실패 시 사용자 알림"),
            new("The Shimmy health check failed. Open the logs to see the cause.",
                "Shimmy 헬스체크에 실패했습니다. 로그를 열어 세부 원인을 확인하세요.")),
        new(ShimmyErrorCode.ModelNotFound, "MODEL_NOT_FOUND",
            new("The defaultModel or the model the user selected is not in modelsDir.",
                "`defaultModel` 혹은 사용자 선택 모델이 modelsDir에 존재하지 않음"),
            new("Run the model download flow; if it fails, point to the license agreement and the network status.",
                "모델 다운로드 플로우 실행, 실패 시 라이선스 동의/네트워크 상태 확인 안내"),
            new("The selected model is not installed. Please download it.",
                "선택한 모델이 설치되어 있지 않습니다. 다운로드를 진행해주세요.")),
        new(ShimmyErrorCode.DownloadFailed, "DOWNLOAD_FAILED",
            new("The model download stopped on a network error, a checksum mismatch or the like.",
                "모델 다운로드가 네트워크 오류, 체크섬 불일치 등으로 중단됨"),
            new("Retry (with backoff); offer to clear the cache and download again.",
                "재시도(백오프), 캐시 정리 후 재다운로드 옵션 제공"),
            new("The model download failed. Check the network connection and try again.",
                "모델 다운로드에 실패했습니다. 네트워크 연결을 확인한 뒤 다시 시도하세요.")),
        new(ShimmyErrorCode.UnsupportedAccel, "UNSUPPORTED_ACCEL",
            new("The detected hardware does not support the requested acceleration (CUDA/Metal/MLX…).",
                "감지된 하드웨어가 요청된 가속 플래그(CUDA/Metal/MLX 등)를 지원하지 않음"),
            new("Fall back to CPU mode, or have the user choose another acceleration option.",
                "CPU 모드로 폴백하거나 사용자가 다른 가속 옵션을 선택하도록 유도"),
            new("The selected acceleration option is not available on this device. Choose another option in the settings.",
                "현재 장치에서 선택한 가속 옵션을 사용할 수 없습니다. 설정에서 다른 옵션을 선택하세요.")),
    ];

    public static ShimmyErrorEntry Entry(ShimmyErrorCode code) => Table.Single(e => e.Code == code);

    /// <summary>
    /// The error a person reads: the seed's user message plus what happened here, and as the remedy
    /// the seed's recovery plus the concrete step for this host (<paramref name="action"/>).
    /// </summary>
    public static UnitError Create(ShimmyErrorCode code, string detail, CultureInfo culture, string? action = null)
    {
        var entry = Entry(code);
        var remedy = entry.Recovery.For(culture) + (action is null ? "" : " → " + action);
        return new UnitError(entry.Name, $"{entry.Message.For(culture)} ({detail})", remedy);
    }
}
