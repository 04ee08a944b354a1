select file, stage, reason, starts_with(reason, 'warning:') as is_warning
from load_errors
order by is_warning, file, stage;
