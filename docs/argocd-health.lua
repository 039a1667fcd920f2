-- Argo CD health check for ecs-scheduler.dev/ScheduledEcsJob.
-- Healthy when Ready; Suspended when spec.suspended; Degraded on InvalidSpec, Forbidden,
-- LaunchFailed, TriggerError, AssumeRoleFailed, TaskDefinitionFailed, OperatorError; Progressing until the operator has reported on the current generation.
local hs = {status = "Progressing", message = "Waiting for the operator"}
if obj.spec ~= nil and obj.spec.suspended == true then
  hs.status = "Suspended"
  hs.message = "spec.suspended is true"
  return hs
end
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.status.observedGeneration ~= nil and obj.metadata ~= nil and obj.metadata.generation ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  return hs
end
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Ready" then
    hs.message = condition.message or ""
    if condition.status == "True" then
      hs.status = "Healthy"
    elseif condition.reason == "InvalidSpec" or condition.reason == "Forbidden"
        or condition.reason == "LaunchFailed" or condition.reason == "TriggerError"
        or condition.reason == "AssumeRoleFailed" or condition.reason == "TaskDefinitionFailed"
        or condition.reason == "OperatorError" then
      hs.status = "Degraded"
    elseif condition.reason == "Suspended" then
      hs.status = "Suspended"
    end
  end
end
return hs
