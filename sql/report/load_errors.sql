select file, stage, reason, starts_with(reason, 'warning:') as is_warning,
       starts_with(reason, 'held back:') as is_held_back
from load_errors
order by is_warning, file, stage;
