using System.Text.Json.Nodes;
using Inference.Cli.Commands;
using Inference.Tests;

namespace Inference.Server.Tests;

/// <summary>`inference chat-template` on the real templates in shared/chat-templates.</summary>
public class ChatTemplateCliTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var json in Directory.GetFiles(RepoPaths.ChatTemplates, "*.json").Order(StringComparer.Ordinal))
        {
            int count = JsonNode.Parse(File.ReadAllText(json))!["cases"]!.AsArray().Count;
            for (int i = 0; i < count; i++) data.Add(Path.GetFileNameWithoutExtension(json), i);
        }
        return data;
    }

    [Fact]
    public void All_eleven_templates_are_covered() => Assert.Equal(11, Cases().Select(c => (string)c[0]).Distinct().Count());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_each_case_exactly_or_fails_with_exit_code_1(string name, int index)
    {
        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.ChatTemplates, name + ".json")))!;
        var c = spec["cases"]![index]!;
        using var dir = new TempDir();
        // The model's special tokens come in as extra variables, exactly as transformers passes them.
        var input = new JsonObject
        {
            ["messages"] = c["messages"]!.DeepClone(),
            ["add_generation_prompt"] = c["add_generation_prompt"]!.DeepClone(),
            ["tools"] = c["tools"]?.DeepClone(),
        };
        if (spec["bos_token"] is { } bos) input["bos_token"] = bos.DeepClone();
        if (spec["eos_token"] is { } eos) input["eos_token"] = eos.DeepClone();
        foreach (var (key, value) in c["extra"]!.AsObject()) input[key] = value?.DeepClone();
        File.WriteAllText(dir.File("input.json"), input.ToJsonString());

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = ChatTemplateCommand.Run(null, Path.Combine(RepoPaths.ChatTemplates, name + ".jinja"), dir.File("input.json"), stdout, stderr);
        if (c["expected_error"] is not null)
        {
            Assert.Equal(1, code);
            Assert.Equal("", stdout.ToString());
            if ((string?)c["error_type"] == "TemplateError")
                Assert.Equal((string)c["error_message"]! + Environment.NewLine, stderr.ToString());
            else
                Assert.NotEqual("", stderr.ToString());
        }
        else
        {
            Assert.Equal("", stderr.ToString());
            Assert.Equal(0, code);
            Assert.Equal((string)c["expected"]!, stdout.ToString());
        }
    }

    [Fact]
    public void Uses_the_model_folders_template_and_special_tokens()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("input.json"), """{"messages":[{"role":"user","content":"Hi"}],"add_generation_prompt":true}""");
        var stdout = new StringWriter();
        Assert.Equal(0, ChatTemplateCommand.Run(RepoPaths.Stories260K, null, dir.File("input.json"), stdout, new StringWriter()));
        Assert.Equal("<s>User: Hi\nAssistant:", stdout.ToString());
    }

    [Fact]
    public void Template_error_through_the_real_executable_is_exit_code_1_with_the_message_on_stderr()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("input.json"), """{"messages":[{"role":"system","content":"S"},{"role":"user","content":"Hi"}],"add_generation_prompt":true}""");
        var (code, stdout, stderr) = Cli.Run("chat-template", "--template", Path.Combine(RepoPaths.ChatTemplates, "gemma-2-2b-it.jinja"), "--input", dir.File("input.json"));
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("System role not supported", stderr.Trim());

        File.WriteAllText(dir.File("input.json"), """{"messages":[{"role":"user","content":"Hi ✓"}],"add_generation_prompt":true}""");
        (code, stdout, stderr) = Cli.Run("chat-template", "--template", Path.Combine(RepoPaths.ChatTemplates, "gemma-2-2b-it.jinja"), "--input", dir.File("input.json"));
        Assert.Equal(0, code);
        Assert.Equal("<start_of_turn>user\nHi ✓<end_of_turn>\n<start_of_turn>model\n", stdout); // no newline added, no bos (none was given)
    }
}
