using System.Text.Json.Nodes;
using Inference.Templating;

namespace Inference.Tests.Templating;

/// <summary>Every case of every real Hugging Face template in shared/chat-templates, byte for byte.</summary>
public class ChatTemplateCasesTests
{
    public static TheoryData<string, int, string> Cases()
    {
        var data = new TheoryData<string, int, string>();
        foreach (var json in Directory.GetFiles(RepoPaths.ChatTemplates, "*.json").Order(StringComparer.Ordinal))
        {
            var cases = JsonNode.Parse(File.ReadAllText(json))!["cases"]!.AsArray();
            for (int i = 0; i < cases.Count; i++)
                data.Add(Path.GetFileNameWithoutExtension(json), i, (string)cases[i]!["name"]!);
        }
        return data;
    }

    [Fact]
    public void All_templates_are_present()
    {
        Assert.Equal(11, Directory.GetFiles(RepoPaths.ChatTemplates, "*.jinja").Length);
        Assert.Equal(11, Directory.GetFiles(RepoPaths.ChatTemplates, "*.json").Length);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_like_transformers(string model, int index, string caseName)
    {
        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.ChatTemplates, model + ".json")))!;
        var c = spec["cases"]![index]!;
        Assert.Equal(caseName, (string)c["name"]!);
        // The template is used exactly as shipped: no newline normalisation or trimming here.
        var template = ChatTemplate.Parse(File.ReadAllText(Path.Combine(RepoPaths.ChatTemplates, model + ".jinja")));

        string Render() => ChatTemplateRenderer.Apply(
            template,
            c["messages"]!.AsArray(),
            (bool)c["add_generation_prompt"]!,
            c["tools"] as JsonArray,
            (string?)spec["bos_token"],
            (string?)spec["eos_token"],
            c["extra"] as JsonObject);

        if (c["expected_error"] is not null)
        {
            var ex = Assert.Throws<TemplateException>(Render);
            switch ((string?)c["error_type"])
            {
                case "TemplateError":
                    Assert.True(ex.RaisedByTemplate);
                    Assert.Equal((string?)c["error_message"], ex.Message);
                    break;
                case "UndefinedError":
                    Assert.Equal(TemplateErrorKind.Undefined, ex.Kind);
                    Assert.Equal((string?)c["error_message"], ex.Detail);
                    break;
            }
        }
        else
        {
            Assert.Equal((string)c["expected"]!, Render());
        }
    }
}
